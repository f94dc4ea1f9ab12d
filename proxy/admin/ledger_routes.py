"""``GET /admin/ledger?month=YYYY-MM[&tenant=T][&format=json|csv]``: the month's bill;
``GET /admin/ledger/stats``: this process's group-commit batch sizes.

The same computation as ``pdt-proxy ledger export`` (proxy/ledger/export.py),
read from the running proxy's ledger store. A malformed query is a 400 JSON
error naming the parameter, never a 500.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth
from proxy.errors import ProxyError
from proxy.ledger.export import Format, render
from proxy.ledger.month import Month
from proxy.ledger.pricing import compute_bill
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime

__all__ = ["ledger_routes"]

_log = get_logger(__name__)
_TENANT = re.compile(r"[a-z0-9][a-z0-9\-_]{0,62}")
_MEDIA: dict[Format, str] = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def _bad_request(message: str) -> Response:
    return JSONResponse({"message": message}, 400)


def ledger_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    async def ledger(request: Request) -> Response:
        identity = auth.check(request, "viewer")
        if isinstance(identity, Response):
            return identity
        query = request.query_params
        try:
            month = Month.parse(query.get("month", ""))
        except ValueError as error:
            return _bad_request(f"month: {error}")
        tenant = query.get("tenant")
        if tenant is not None and not _TENANT.fullmatch(tenant):
            return _bad_request("tenant: not a tenant id")
        output_format = query.get("format", "json")
        if output_format not in _MEDIA:
            return _bad_request("format: json or csv")
        try:
            rows = await runtime.ledger.usage(month, tenant=tenant)
        except ProxyError as error:
            return JSONResponse({"message": f"ledger unavailable: {error}"}, 503)
        except Exception:
            _log.exception("ledger read failed")
            return JSONResponse({"message": "ledger unavailable"}, 503)
        bill = compute_bill(runtime.pricing, str(month), rows, tenant=tenant)
        fmt: Format = "csv" if output_format == "csv" else "json"
        return Response(render(bill, fmt), 200, media_type=_MEDIA[fmt])

    async def stats(request: Request) -> Response:
        identity = auth.check(request, "viewer")
        if isinstance(identity, Response):
            return identity
        # Per process: with --workers N each worker has its own writer.
        seen = runtime.ledger.stats
        return JSONResponse(
            {
                "enabled": runtime.ledger.enabled,
                "batches": seen.batches,
                "records": seen.records,
                "largest_batch": seen.largest,
                "failed_batches": seen.failed_batches,
                "batch_sizes": {str(size): count for size, count in sorted(seen.sizes.items())},
            }
        )

    return [
        Route("/admin/ledger", ledger, methods=["GET"]),
        Route("/admin/ledger/stats", stats, methods=["GET"]),
    ]
