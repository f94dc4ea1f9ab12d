"""Which listener serves what, when the admin API has a port of its own.

With ``server.admin_port`` set, ``serve`` listens twice: the public port carries the
legacy surfaces (and the probes), the admin port the admin API and ``/metrics``
(and the probes). Each listener refuses the other's paths with a plain 404, as if
they did not exist there: a bank's network never reaches an admin endpoint, and an
operator's port-forward never reaches a legacy route. Without an admin port this
layer is not installed at all.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ListenerSplit", "is_admin_path", "on_admin_port"]

_NOT_FOUND: Final = b'{"message":"Not Found"}'
_PROBES: Final = frozenset({"/healthz", "/readyz"})


def is_admin_path(path: str) -> bool:
    return path == "/metrics" or path == "/admin" or path.startswith("/admin/")


def on_admin_port(scope: Scope, admin_port: int | None) -> bool:
    """Whether the request came in on the admin listener (its local port)."""
    server = scope.get("server")
    return admin_port is not None and server is not None and server[1] == admin_port


class ListenerSplit:
    def __init__(self, app: ASGIApp, *, admin_port: int) -> None:
        self._app = app
        self._admin_port = admin_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            admin_listener = on_admin_port(scope, self._admin_port)
            if path not in _PROBES and is_admin_path(path) != admin_listener:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 404,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"23")],
                    }
                )
                await send({"type": "http.response.body", "body": _NOT_FOUND})
                return
        await self._app(scope, receive, send)
