"""The migration autopilot of one tenant (optionally one of its products).

``PUT    /admin/tenants/{tenant}/autopilot``            the plan (``product`` in the body);
                                                       fields left out take compare.yaml's defaults
``GET    /admin/tenants/{tenant}/autopilot``            plan, status, current step, each gate's
                                                       measured figure, what is missing, decisions
``DELETE /admin/tenants/{tenant}/autopilot``            stop it (stages stay where they are)
``POST   /admin/tenants/{tenant}/autopilot/pause``      evaluate nothing until resumed
``POST   /admin/tenants/{tenant}/autopilot/resume``     active again (also after a rollback)
``POST   /admin/tenants/{tenant}/autopilot/evaluate``   decide now: ``{"decision", "from", "to", "figures"}``
``GET    /admin/autopilot/estate``                      every tenant: stage, next gate, blocked, decommission

All but PUT take ``?product=P`` for a per-product plan. Reads need ``viewer``,
changes ``operator``. Bad input is a 400 naming the problem, an unknown tenant or
plan a 404, an unreachable database a 503; never a 500 with a trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth, Role
from proxy.autopilot.estate import estate
from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.records import PlanRecord
from proxy.autopilot_plan import parse_plan
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime

__all__ = ["autopilot_routes"]

_log = get_logger(__name__)
_Handler = Callable[[Request], Awaitable[Response]]


def _error(message: str, status: int = 400) -> Response:
    return JSONResponse({"message": message}, status)


class _AutopilotAdmin:
    def __init__(self, runtime: Runtime, auth: AdminAuth, autopilot: Autopilot) -> None:
        self.runtime = runtime
        self.auth = auth
        self.autopilot = autopilot
        self.store = autopilot.store

    def _guarded(self, role: Role, handler: Callable[[Request, str], Awaitable[Response]]) -> _Handler:
        async def endpoint(request: Request) -> Response:
            identity = self.auth.check(request, role)
            if isinstance(identity, Response):
                return identity
            request.state.actor = identity.actor
            try:
                return await handler(request, identity.actor)
            except Exception:
                _log.exception("autopilot request failed", path=request.url.path)
                return _error("the database could not be reached; try again", 503)

        return endpoint

    def _tenant(self, request: Request) -> str | Response:
        tenant = str(request.path_params["tenant"])
        if self.runtime.tenants.get(tenant) is None:
            return _error(f"unknown tenant {tenant!r}", 404)
        return tenant

    def _product(self, tenant: str, product: Any) -> str | Response | None:
        if product is None:
            return None
        known = self.runtime.tenants.get(tenant)
        if not isinstance(product, str) or known is None or product not in known.products:
            return _error(
                f"product: not one of the tenant's products ({sorted(known.products) if known else []})"
            )
        return product

    async def put(self, request: Request, actor: str) -> Response:
        tenant = self._tenant(request)
        if isinstance(tenant, Response):
            return tenant
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error("body: not JSON")
        try:
            plan = parse_plan(body, self.autopilot.defaults)
        except ValueError as error:
            return _error(str(error))
        product = self._product(tenant, plan.product)
        if isinstance(product, Response):
            return product
        now = self.autopilot.clock()
        existing = await self.store.plan(tenant, product)
        created = existing.created_at if existing is not None else now
        await self.store.put_plan(PlanRecord(tenant, product, plan.to_json(), "active", created, now, actor))
        _log.info("autopilot plan set", tenant=tenant, product=product, actor=actor)
        return await self._view(tenant, product, 200 if existing else 201)

    async def get(self, request: Request, actor: str) -> Response:
        scope = self._scope(request)
        if isinstance(scope, Response):
            return scope
        return await self._view(*scope)

    def _scope(self, request: Request) -> tuple[str, str | None] | Response:
        tenant = self._tenant(request)
        if isinstance(tenant, Response):
            return tenant
        product = self._product(tenant, request.query_params.get("product"))
        if isinstance(product, Response):
            return product
        return tenant, product

    async def _view(self, tenant: str, product: str | None, status: int = 200) -> Response:
        record = await self.store.plan(tenant, product)
        if record is None:
            return _error(
                f"tenant {tenant!r} has no autopilot plan" + (f" for {product}" if product else ""), 404
            )
        outcome = await self.autopilot.evaluate(tenant, product, dry_run=True)
        assert outcome is not None
        decisions = await self.store.decisions(tenant, product=product, limit=20)
        return JSONResponse(
            {
                "tenant": tenant,
                "product": product,
                "status": record.status,
                "plan": self.autopilot.plan_of(record).to_json(),
                "set_by": record.actor,
                "updated_at": record.updated_at.isoformat(),
                "current": outcome.verdict.from_stage,
                "step_started": outcome.step_started.isoformat(),
                "gates": outcome.figures.get("gates", []),
                "figures": {key: value for key, value in outcome.figures.items() if key != "gates"},
                "missing": outcome.verdict.missing,
                "next": {
                    "decision": outcome.verdict.decision,
                    "to": outcome.verdict.to_stage,
                    "reason": outcome.verdict.reason,
                },
                "decisions": [decision.to_json() for decision in decisions],
            },
            status,
        )

    async def delete(self, request: Request, actor: str) -> Response:
        scope = self._scope(request)
        if isinstance(scope, Response):
            return scope
        if not await self.store.delete_plan(*scope):
            return _error(f"tenant {scope[0]!r} has no autopilot plan", 404)
        _log.info("autopilot plan stopped", tenant=scope[0], product=scope[1], actor=actor)
        return JSONResponse({"tenant": scope[0], "product": scope[1], "stopped": True})

    async def _status(self, request: Request, actor: str, status: str) -> Response:
        scope = self._scope(request)
        if isinstance(scope, Response):
            return scope
        changed = await self.store.set_status(
            *scope, "paused" if status == "paused" else "active", at=self.autopilot.clock(), actor=actor
        )
        if not changed:
            return _error(f"tenant {scope[0]!r} has no autopilot plan", 404)
        _log.info("autopilot plan status", tenant=scope[0], product=scope[1], status=status, actor=actor)
        return await self._view(*scope)

    async def pause(self, request: Request, actor: str) -> Response:
        return await self._status(request, actor, "paused")

    async def resume(self, request: Request, actor: str) -> Response:
        return await self._status(request, actor, "active")

    async def evaluate(self, request: Request, actor: str) -> Response:
        scope = self._scope(request)
        if isinstance(scope, Response):
            return scope
        outcome = await self.autopilot.evaluate(*scope)
        if outcome is None:
            return _error(f"tenant {scope[0]!r} has no autopilot plan", 404)
        _log.info("autopilot evaluated on demand", tenant=scope[0], product=scope[1], actor=actor)
        return JSONResponse(outcome.to_json())

    async def estate(self, request: Request, actor: str) -> Response:
        view = await estate(self.autopilot, self.runtime.tenants)
        return JSONResponse(view.to_json())


def autopilot_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    if runtime.autopilot is None:
        return []
    admin = _AutopilotAdmin(runtime, auth, runtime.autopilot)
    base = "/admin/tenants/{tenant}/autopilot"
    return [
        Route(base, admin._guarded("operator", admin.put), methods=["PUT"]),
        Route(base, admin._guarded("viewer", admin.get), methods=["GET"]),
        Route(base, admin._guarded("operator", admin.delete), methods=["DELETE"]),
        Route(f"{base}/pause", admin._guarded("operator", admin.pause), methods=["POST"]),
        Route(f"{base}/resume", admin._guarded("operator", admin.resume), methods=["POST"]),
        Route(f"{base}/evaluate", admin._guarded("operator", admin.evaluate), methods=["POST"]),
        Route("/admin/autopilot/estate", admin._guarded("viewer", admin.estate), methods=["GET"]),
    ]
