"""A pure ASGI shortcut from the server straight to the legacy routes.

The legacy handlers catch and render every error themselves, so FastAPI's
exception, telemetry and exit-stack layers and its router walk add nothing to
them but cost (measured at about an eighth of the proxy's CPU per request).
This middleware sits just inside the server-error guard: a request that fully
matches a legacy route is handed to it directly; anything else (admin API,
unknown paths, wrong methods) continues through FastAPI unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LegacyFastPath"]


class LegacyFastPath:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.app(scope, receive, send)
