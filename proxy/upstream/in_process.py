"""The built-in simulators as an upstream transport: their ASGI app called in process.

The embedded default (``pdt.environments.*: simulator``) needs no socket and no
second process: each request becomes one ASGI call, its answer collected the way
the aiohttp transport reads a real host's (bounded, read before returning). A crash
inside the simulator answers 500, as a real host's would, not a proxy error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from starlette.types import ASGIApp, Message

from proxy.upstream.seam import SendLimits, UpstreamAnswer

__all__ = ["InProcessTransport"]

_CLIENT = ("127.0.0.1", 0)


class InProcessTransport:
    """``UpstreamTransport`` over an ASGI app, without the network."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    @property
    def app(self) -> ASGIApp:
        """The app served (reload updates the built-in simulators' accounts on it)."""
        return self._app

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limits: SendLimits,
    ) -> UpstreamAnswer:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        content = body or b""
        raw_headers = [(b"host", parts.netloc.encode("latin-1"))]
        raw_headers += [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        if content:
            raw_headers.append((b"content-length", str(len(content)).encode("latin-1")))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": parts.scheme,
            "path": unquote(parts.path),
            "raw_path": parts.path.encode("latin-1"),
            "query_string": parts.query.encode("latin-1"),
            "root_path": "",
            "headers": raw_headers,
            "server": (host, port),
            "client": _CLIENT,
        }
        collector = _Collector(limits.max_body_bytes)
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if requested:
                # The request was read whole; what an app waits for next is the end.
                return {"type": "http.disconnect"}
            requested = True
            return {"type": "http.request", "body": content, "more_body": False}

        try:
            await self._app(scope, receive, collector.send)
        except Exception:
            # The simulator's own bug: a remote 500, unless the answer was already sent.
            if collector.status is None:
                return UpstreamAnswer(status=500, body=b"", content_type=None, retry_after=None)
        return collector.answer()

    async def aclose(self) -> None:
        """Nothing to release: the app's lifetime is its owner's."""


class _Collector:
    """The ASGI ``send`` side: the status, two headers and at most ``limit + 1`` body bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self.status: int | None = None
        self._content_type: str | None = None
        self._retry_after: str | None = None
        self._body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for name, value in message.get("headers", ()):
                lowered = bytes(name).lower()
                if lowered == b"content-type":
                    self._content_type = bytes(value).decode("latin-1")
                elif lowered == b"retry-after":
                    self._retry_after = bytes(value).decode("latin-1")
        elif message["type"] == "http.response.body" and len(self._body) <= self._limit:
            self._body += message.get("body", b"")

    def answer(self) -> UpstreamAnswer:
        return UpstreamAnswer(
            status=500 if self.status is None else self.status,
            body=bytes(self._body[: self._limit + 1]),
            content_type=self._content_type,
            retry_after=self._retry_after,
        )
