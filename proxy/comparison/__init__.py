"""Comparing two legacy-shaped answers to one request: the shadow backtest and replay.

``rules`` loads ``mappings/compare.yaml`` (what to ignore, numeric tolerances, which
lists are sets) and checks it against each operation's legacy answer schema;
``engine`` compares a legacy answer with the proxy's translated PDT answer, field by
field, and traces every difference to the mapping rule that produced the field.
"""
