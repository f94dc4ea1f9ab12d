"""The few request headers the legacy pipeline reads, taken from the ASGI scope in one pass."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import Scope

__all__ = ["RequestHeaders"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestHeaders:
    authorization: str | None = None
    content_type: str | None = None
    content_length: str | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, scope: Scope) -> RequestHeaders:
        """The first of each (servers give names in lower case, values as latin-1 bytes)."""
        found: dict[bytes, str] = {}
        for name, value in scope.get("headers", ()):
            if name in _WANTED and name not in found:
                found[name] = value.decode("latin-1")
        return cls(
            authorization=found.get(b"authorization"),
            content_type=found.get(b"content-type"),
            content_length=found.get(b"content-length"),
            request_id=found.get(b"x-request-id"),
        )


_WANTED = frozenset({b"authorization", b"content-type", b"content-length", b"x-request-id"})
