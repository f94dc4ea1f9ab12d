"""A pure ASGI shortcut from the server straight to the legacy routes.

The legacy handlers catch and render every error themselves, so FastAPI's
exception, telemetry and exit-stack layers and its router walk add nothing to
them but cost (measured at about an eighth of the proxy's CPU per request).
This middleware sits just inside the server-error guard: a request that fully
matches a legacy route is handed to it directly; anything else (admin API,
unknown paths, wrong methods) continues through FastAPI unchanged.

A matched route's endpoint is called directly too, as Starlette's
``request_response`` would, minus its exception-handler wrapper: out here, outside
Starlette's ``ExceptionMiddleware``, that wrapper has no handler to find and only
re-raises, yet it costs a closure per request and a coroutine per message sent.
Should a scope ever carry exception handlers, the route's own ``handle`` runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["LegacyFastPath"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _direct_endpoint(route: BaseRoute) -> Endpoint | None:
    """The endpoint to call for ``route``, or None when only ``route.handle`` will do.

    Only a plain ``Route`` over an async function, whose app is Starlette's own
    ``request_response`` wrapper (no route middleware, no body limit around it).
    """
    if not isinstance(route, Route) or not inspect.iscoroutinefunction(route.endpoint):
        return None
    if getattr(route.app, "__qualname__", "") != "request_response.<locals>.app":
        return None
    endpoint: Endpoint = route.endpoint
    return endpoint


class LegacyFastPath:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)
        self._targets = tuple((route, _direct_endpoint(route)) for route in self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route, endpoint in self._targets:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child_scope)
                    if endpoint is None or "starlette.exception_handlers" in scope:
                        await route.handle(scope, receive, send)
                    else:
                        # A FULL match already checked the method, as handle would.
                        response = await endpoint(Request(scope, receive, send))
                        await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
