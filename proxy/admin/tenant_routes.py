"""Tenants, their migration stages and their backtests, for the account team and operators.

``GET  /admin/tenants``                          every tenant with its stage per product
``PUT  /admin/tenants/{tenant}/stage``           ``{"stage": "shadow"}``, ``{"stage": "canary",
                                                 "percent": 10}``, optional ``"product"``
``GET  /admin/tenants/{tenant}/stage/audit``     who changed what, when, from what
``GET  /admin/tenants/{tenant}/backtest``        ``?from=ISO&to=ISO[&product=P][&format=html
                                                 [&copy=internal][&lang=en]]`` (HTML: the bank's copy)

Every request carries an admin bearer token (proxy/admin/auth.py): reads need the
``viewer`` role, stage changes ``operator``. The audit names the token's actor.
A malformed request is a 400 naming what is wrong; a database that cannot be
reached is a 503; never a 500 with a trace.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth, AdminIdentity, Role
from proxy.backtest.html import render_html
from proxy.backtest.offload import backtest_off_loop
from proxy.ledger.month import Month
from proxy.mapping.version import mapping_version
from proxy.migration_stage import Stage
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime
from proxy.stages.book import StageRefused

__all__ = ["tenant_routes"]

_log = get_logger(__name__)
_DEFAULT_WINDOW = timedelta(days=7)


def _error(message: str, status: int = 400) -> Response:
    return JSONResponse({"message": message}, status)


def _moment(text: str | None, default: datetime, name: str) -> datetime:
    if text is None:
        return default
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"{name}: not an ISO-8601 date or time within years 1-9999") from None


def _change_json(change: Any) -> dict[str, Any]:
    return {
        "tenant": change.tenant,
        "product": change.product,
        "from": change.from_stage,
        "to": change.to_stage,
        "at": change.at.isoformat(),
        "actor": change.actor,
    }


class _TenantAdmin:
    def __init__(self, runtime: Runtime, auth: AdminAuth) -> None:
        self.runtime = runtime
        self.auth = auth
        self.control = runtime.stage_control
        self._mapping: str | None = None

    def _mapping_version(self) -> str:
        if self._mapping is None:
            try:
                self._mapping = mapping_version(self.runtime.settings.mappings_dir)
            except OSError:
                self._mapping = ""
        return self._mapping

    async def tenants(self, request: Request) -> Response:
        identity = self.auth.check(request, "viewer")
        if isinstance(identity, Response):
            return identity
        described = self.runtime.stages.describe()
        month = Month.of(datetime.now(UTC))
        try:
            # Every worker's legacy answers this month, from the shared ledger.
            rows = await self.runtime.ledger.usage(month)
        except Exception:
            _log.warning("ledger not readable for the legacy traffic figures", exc_info=True)
            rows = []
        for entry in described:
            tenant = entry["tenant"]
            this_month: dict[str, int] = {}
            for row in rows:
                if row.tenant == tenant and row.side == "legacy":
                    this_month[row.product] = this_month.get(row.product, 0) + row.count
            entry["legacy_calls"] = {
                "month": str(month),
                "this_month": this_month,
                "this_process": self.runtime.legacy_traffic.of(tenant),
            }
        return JSONResponse({"tenants": described})

    async def set_stage(self, request: Request) -> Response:
        identity = self.auth.check(request, "operator")
        if isinstance(identity, Response):
            return identity
        tenant = request.path_params["tenant"]
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body: not JSON")
        if not isinstance(body, dict):
            return _error('body: an object such as {"stage": "shadow"}')
        product = body.pop("product", None)
        if product is not None and not isinstance(product, str):
            return _error("product: a product name")
        try:
            stage = Stage.parse(body)
        except ValueError as error:
            return _error(f"stage: {error}")
        try:
            change = await self.control.change(tenant, product, stage, identity.actor)
        except StageRefused as error:
            status = 404 if str(error).startswith("unknown tenant") else 409
            return _error(str(error), status)
        except Exception:
            _log.exception("stage change not stored", tenant=tenant)
            return _error("the stage change could not be stored; nothing changed", 503)
        return JSONResponse(_change_json(change))

    def _known(self, request: Request, needed: Role) -> tuple[str, Response | None]:
        identity: AdminIdentity | Response = self.auth.check(request, needed)
        tenant = request.path_params["tenant"]
        if isinstance(identity, Response):
            return tenant, identity
        if self.runtime.tenants.get(tenant) is None:
            return tenant, _error(f"unknown tenant {tenant!r}", 404)
        return tenant, None

    async def audit(self, request: Request) -> Response:
        tenant, refused = self._known(request, "viewer")
        if refused is not None:
            return refused
        try:
            changes = await self.control.store.stage_audit(tenant=tenant)
        except Exception:
            _log.exception("stage audit not read", tenant=tenant)
            return _error("the audit log could not be read", 503)
        return JSONResponse({"tenant": tenant, "changes": [_change_json(change) for change in changes]})

    async def backtest(self, request: Request) -> Response:
        tenant, refused = self._known(request, "viewer")
        if refused is not None:
            return refused
        query = request.query_params
        try:
            until = _moment(query.get("to"), datetime.now(UTC), "to")
            since = _moment(query.get("from"), until - _DEFAULT_WINDOW, "from")
        except ValueError as error:
            return _error(str(error))
        except OverflowError:
            return _error("from/to: a date within years 1-9999 once in UTC")
        if since >= until:
            return _error("from must be before to")
        try:
            results = await self.control.store.shadow_results(
                tenant, since=since, until=until, product=query.get("product")
            )
        except Exception:
            _log.exception("shadow results not read", tenant=tenant)
            return _error("the shadow results could not be read", 503)
        # On a worker thread: a long window's aggregation must not stall the answers.
        report = await backtest_off_loop(
            tenant, results, self.runtime.compare_rules, window_from=since, window_to=until
        )
        if query.get("format") == "html":
            known = self.runtime.tenants.get(tenant)
            product = query.get("product")
            page = render_html(
                report,
                tenant_name=known.name if known is not None else tenant,
                products=[product] if product else sorted(known.products) if known is not None else [],
                internal=query.get("copy") == "internal",
                locale="en" if query.get("lang") == "en" else "pt_BR",
                mapping_version=self._mapping_version(),
            )
            return HTMLResponse(page)
        return Response(orjson.dumps(report.to_json()), media_type="application/json")


def tenant_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    admin = _TenantAdmin(runtime, auth)
    return [
        Route("/admin/tenants", admin.tenants, methods=["GET"]),
        Route("/admin/tenants/{tenant}/stage", admin.set_stage, methods=["PUT"]),
        Route("/admin/tenants/{tenant}/stage/audit", admin.audit, methods=["GET"]),
        Route("/admin/tenants/{tenant}/backtest", admin.backtest, methods=["GET"]),
    ]
