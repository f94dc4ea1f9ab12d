"""One answer ready for the wire: status, headers and body, sent as two ASGI messages.

The legacy surfaces answer through this record instead of a framework response
object: what they send is fully known when the answer is made, so there is
nothing for a response class to do but cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Send

__all__ = ["Reply", "json_reply"]

Headers = tuple[tuple[bytes, bytes], ...]
# Answers HTTP says have no body length to declare (a legacy backend may relay one).
_NO_LENGTH = frozenset({204, 304})


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    status: int
    body: bytes
    # Lower-case names; content-length is added on sending.
    headers: Headers = ()

    async def send(self, send: Send) -> None:
        headers = list(self.headers)
        if not (self.status < 200 or self.status in _NO_LENGTH):
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_reply(status: int, body: bytes, *, request_id: str | None, content_type: str) -> Reply:
    """An answer with its content type and, when the request has one, its X-Request-Id."""
    headers: Headers = ((b"content-type", content_type.encode("latin-1")),)
    if request_id is not None:
        headers = ((b"x-request-id", request_id.encode("latin-1")), *headers)
    return Reply(status=status, body=body, headers=headers)
