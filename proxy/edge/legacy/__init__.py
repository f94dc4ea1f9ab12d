"""The legacy surfaces as one lean ASGI app: route table, request pipeline, observers."""
