"""The ASGI application: legacy routes, operations endpoints, JSON errors everywhere.

``create_app`` builds everything synchronously, so a broken mapping or tenant file
stops the process before it listens; the lifespan only closes what was opened.
``create_app_from_environment`` is the factory uvicorn imports in each worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
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
from proxy.edge.listeners import ListenerSplit, on_admin_port
from proxy.edge.openapi import openapi_endpoint
from proxy.edge.request_span import RequestSpans
from proxy.ledger.store import LedgerStore
from proxy.observability import tracing
from proxy.observability.logging import configure_logging, get_logger
from proxy.observability.startup import summarise
from proxy.runtime import Runtime, build_runtime

__all__ = ["create_app", "create_app_from_environment"]

_log = get_logger(__name__)


def _operations_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    admin_port = runtime.settings.server.admin_port

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
        # Tenant ids and volumes: a viewer's to read on the public port. The admin
        # port is reached only from inside (a scraper, a port-forward).
        if not on_admin_port(request.scope, admin_port):
            identity = auth.check(request, "viewer")
            if isinstance(identity, Response):
                return identity
        body, content_type = runtime.metrics.render()
        return Response(body, media_type=content_type)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi_endpoint(lambda: runtime.live.current.catalog), methods=["GET"]),
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


def _http_error_handler(families: ErrorFamilies, unrouted: Mapping[str, tuple[int, bytes]]):  # type: ignore[no-untyped-def]
    """404/405 outside any operation, in the error shape of the product the path belongs to.

    A path under no product's prefix gets the answer of ``mappings/unrouted.yaml``
    (an empty body when the file is absent, as ASP.NET Core answered).
    """

    async def handle(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "internal")
        table = families.for_path(request.url.path)
        if table is not None:
            code, body = table.render(kind, trace_id=request_id_of(request))
            return Response(body, code, media_type=JSON_MEDIA_TYPE)
        answer = unrouted.get(kind)
        if answer is None:
            return Response(b"", status)
        return Response(answer[1], answer[0], media_type=JSON_MEDIA_TYPE)

    return handle


def _log_configuration(runtime: Runtime) -> None:
    """The startup line: what this process runs with (``proxy.observability.startup``)."""
    summary = summarise(
        runtime.settings,
        products=runtime.catalog.products,
        tenant_stages={row["tenant"]: row["stage"] for row in runtime.stages.describe()},
        tracing_on=tracing.STATE.tracer is not None,
    )
    _log.info("configuration", **summary)


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
            _log_configuration(runtime)
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
    auth = AdminAuth.from_settings(settings)
    app.router.routes.extend(_operations_routes(runtime, auth))
    app.router.routes.extend(admin_routes(runtime, auth))
    families = ErrorFamilies(runtime.catalog.products.values())
    app.add_middleware(LegacyFastPath, routes=legacy_routes)
    # Outermost: a refused request must not pay for routing.
    app.add_middleware(
        AdmissionControl,
        max_in_flight=settings.server.max_in_flight,
        families=families,
        metrics=runtime.metrics,
    )
    # Only when tracing is on (OTEL_* variables, read once per process): off, the
    # request path does not even pass through the layer.
    tracing.configure_from_environment()
    tracer = tracing.STATE.tracer
    if tracer is not None:
        app.add_middleware(RequestSpans, families=families, tracer=tracer)
    if settings.server.admin_port is not None:
        # Outermost: the other listener's paths do not exist here.
        app.add_middleware(ListenerSplit, admin_port=settings.server.admin_port)
    handler = _http_error_handler(families, runtime.catalog.unrouted)
    app.add_exception_handler(HTTPException, handler)
    return app


def create_app_from_environment() -> FastAPI:
    """uvicorn factory for ``--workers N``: each worker reads the same configuration."""
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)
