"""The ASGI application: legacy routes, operations endpoints, JSON errors everywhere.

``create_app`` builds everything synchronously, so a broken mapping or tenant file
stops the process before it listens; the lifespan only closes what was opened.
``create_app_from_environment`` is the factory uvicorn imports in each worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth
from proxy.admin.routes import admin_routes
from proxy.config import Settings, load_settings
from proxy.edge.admission import AdmissionControl
from proxy.edge.errors import JSON_MEDIA_TYPE, ErrorFamilies
from proxy.edge.fast_path import LegacyFastPath
from proxy.edge.legacy_routes import build_legacy_routes, request_id_of
from proxy.edge.openapi import openapi_endpoint
from proxy.ledger.store import LedgerStore
from proxy.observability.logging import configure_logging, get_logger
from proxy.runtime import Runtime, build_runtime

__all__ = ["create_app", "create_app_from_environment"]

_log = get_logger(__name__)


def _operations_routes(runtime: Runtime) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        # Readiness is whether THIS replica can answer. Mappings and tenants were
        # compiled before the app existed (a broken file stops startup), so "config" is
        # ok by construction; what can fail at run time is the database. An upstream's
        # state is deliberately not a check: a 503 here takes the replica out of the
        # Service, so no traffic arrives, so nothing could ever show PDT healthy again,
        # and tenants in `legacy` or `pdt-fallback` (which do not need PDT) would lose
        # service too. Breaker states are in /metrics and /admin, and each answer
        # falls back (or fails) on its own.
        checks = {"config": "ok", "database": await _database_check(runtime)}
        ready = checks["database"] == "ok"
        return JSONResponse(
            {
                "status": "ready" if ready else "not_ready",
                "checks": checks,
                "products": sorted(runtime.catalog.products),
            },
            200 if ready else 503,
        )

    async def metrics(request: Request) -> Response:
        body, content_type = runtime.metrics.render()
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi_endpoint(runtime.catalog), methods=["GET"]),
    ]


# A readiness probe is polled every few seconds: a database that takes longer than
# this to answer one small read is as good as unreachable for the answers it backs.
_READINESS_DB_TIMEOUT_S = 1.0


async def _database_check(runtime: Runtime) -> str:
    """One small read on the proxy's database (stage overrides; the ledger shares it)."""
    try:
        async with asyncio.timeout(_READINESS_DB_TIMEOUT_S):
            await runtime.state.stage_overrides()
    except Exception:
        _log.warning("readiness: the proxy's database did not answer")
        return "unreachable"
    return "ok"


def _http_error_handler(families: ErrorFamilies):  # type: ignore[no-untyped-def]
    """404/405 outside any operation, in the error shape of the product the path belongs to."""

    async def handle(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "internal")
        table = families.for_path(request.url.path)
        if table is not None:
            code, body = table.render(kind, trace_id=request_id_of(request))
            return Response(body, code, media_type=JSON_MEDIA_TYPE)
        return JSONResponse({"message": "Not Found" if status == 404 else "Method Not Allowed"}, status)

    return handle


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    ledger_store: LedgerStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    runtime = build_runtime(settings, transport=transport, ledger_store=ledger_store, clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await runtime.start()
            yield
        finally:
            await runtime.aclose()

    app = FastAPI(
        title="PDT compatibility proxy",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        # A redirect to the slash-less path would be a 307 to plain http that a client
        # may follow with its body (a password, a CPF): the family's 404 instead.
        redirect_slashes=False,
        redoc_url=None,
        # The proxy exports its own Prometheus metrics; FastAPI's OpenTelemetry hook
        # would otherwise consult the environment on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    legacy_routes = build_legacy_routes(runtime)
    # Also on the FastAPI router, so a path that matches but with the wrong method
    # falls through the fast path and gets the product's 405 from FastAPI.
    app.router.routes.extend(legacy_routes)
    app.router.routes.extend(_operations_routes(runtime))
    app.router.routes.extend(admin_routes(runtime, AdminAuth.from_settings(settings)))
    families = ErrorFamilies(runtime.catalog.products.values())
    app.add_middleware(LegacyFastPath, routes=legacy_routes)
    # Outermost: a refused request must not pay for routing.
    app.add_middleware(
        AdmissionControl,
        max_in_flight=settings.server.max_in_flight,
        families=families,
        metrics=runtime.metrics,
    )
    handler = _http_error_handler(families)
    app.add_exception_handler(HTTPException, handler)
    return app


def create_app_from_environment() -> FastAPI:
    """uvicorn factory for ``--workers N``: each worker reads the same configuration."""
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)
