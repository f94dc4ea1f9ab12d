"""The operations app: probes, metrics, the OpenAPI document, the admin API and the cockpit.

FastAPI/Starlette serve here, where routing, typed admin models and their own
error handling earn their cost; the legacy surfaces do not pass through it
(``proxy.edge.legacy``). A path it does not know is answered as
``mappings/unrouted.yaml`` says (an empty body when the file is absent, as
ASP.NET Core answered).
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth
from proxy.admin.routes import admin_routes
from proxy.cockpit.routes import cockpit_routes
from proxy.edge.listeners import on_admin_port
from proxy.edge.openapi import openapi_endpoint
from proxy.http.errors import JSON_MEDIA_TYPE
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime

__all__ = ["operations_app"]

_log = get_logger(__name__)

# A readiness probe is polled every few seconds: a database that takes longer than
# this to answer one small read is as good as unreachable for the answers it backs.
_READINESS_DB_TIMEOUT_S = 1.0


def operations_app(runtime: Runtime, auth: AdminAuth) -> FastAPI:
    app = FastAPI(
        title="PDT compatibility proxy",
        openapi_url=None,
        docs_url=None,
        # A redirect to the slash-less path would be a 307 to plain http that a client
        # may follow with its body (a password): a 404 instead.
        redirect_slashes=False,
        redoc_url=None,
        # The proxy exports its own Prometheus metrics; FastAPI's OpenTelemetry hook
        # would otherwise consult the environment on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.router.routes.extend(_operations_routes(runtime, auth))
    app.router.routes.extend(admin_routes(runtime, auth))
    app.router.routes.extend(cockpit_routes(runtime, auth))

    async def unrouted(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kind = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "internal")
        answer = runtime.live.current.catalog.unrouted.get(kind)
        if answer is None:
            return Response(b"", status)
        return Response(answer[1], answer[0], media_type=JSON_MEDIA_TYPE)

    app.add_exception_handler(HTTPException, unrouted)
    return app


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
                "products": sorted(runtime.live.current.catalog.products),
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


async def _database_check(runtime: Runtime) -> str:
    """One small read on the proxy's database (stage overrides; the ledger shares it)."""
    try:
        async with asyncio.timeout(_READINESS_DB_TIMEOUT_S):
            await runtime.state.stage_overrides()
    except Exception:
        _log.warning("readiness: the proxy's database did not answer")
        return "unreachable"
    return "ok"
