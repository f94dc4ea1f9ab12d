"""The ASGI app a server runs: the request layers, then the legacy surfaces or the operations app.

From the outside in: the listener split (admin port, when there is one), the
request span (tracing on), admission control (the in-flight bound), then the legacy
surfaces, which hand every path under no product's prefix to the operations app.
The lifespan is run here: the runtime opens before the first request and closes
after the last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.edge.legacy.deps import LegacyDeps
from proxy.runtime import Runtime

__all__ = ["ProxyApp"]


class ProxyApp:
    def __init__(
        self,
        app: ASGIApp,
        *,
        runtime: Runtime,
        legacy: LegacyDeps,
        operations: FastAPI,
        on_started: Callable[[], None] = lambda: None,
    ) -> None:
        self._app = app
        # What tests and tools reach through the app: the services, and the legacy
        # surfaces' own (tokens to mint, say).
        self.runtime = runtime
        self.legacy = legacy
        self.operations = operations
        self._on_started = on_started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._app(scope, receive, send)

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """The runtime open for the block: what a server's lifespan messages do, for in-process callers."""
        try:
            await self.runtime.start()
            self._on_started()
            yield
        finally:
            await self.runtime.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol (a server's startup and shutdown messages)."""
        await receive()  # lifespan.startup
        try:
            await self.runtime.start()
            self._on_started()
        except BaseException as error:
            try:
                await self.runtime.aclose()
            finally:
                await send({"type": "lifespan.startup.failed", "message": repr(error)})
            raise
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        try:
            await self.runtime.aclose()
        except BaseException as error:
            await send({"type": "lifespan.shutdown.failed", "message": repr(error)})
            raise
        await send({"type": "lifespan.shutdown.complete"})
