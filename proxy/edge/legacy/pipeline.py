"""The legacy surfaces: one request, top to bottom.

For an operation: authenticate (401, then the product grant's 403) -> admit (the
tenant's rate, 429; the in-flight bound is the outer layer, ``AdmissionControl``)
-> read the body (413) -> dispatch by the tenant's stage, which binds the body when
its side needs it (415, 400) and calls the upstreams -> render. Then metering,
which can still turn a success into the family's 503 (``observers/ledger.py``),
and the after-answer observers, one concern each. The order of the checks is the
ASP.NET backends': authentication first, then the grant, then the body.

``live.current`` is read once per request: routes, products, tenants and error
families all come from that one set, so a reload never mixes two inside an answer.
A path under no product's prefix is not this surface's: it goes to ``other`` (the
operations and admin app).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.edge.legacy.authentication import authenticate
from proxy.edge.legacy.deps import LegacyDeps
from proxy.edge.legacy.observers.ledger import LedgerGate
from proxy.edge.legacy.outcome import Outcome
from proxy.edge.legacy.request import RequestHeaders
from proxy.edge.legacy.router import AuthTarget, Matched, OperationTarget, RouteTables
from proxy.errors import Forbidden, ProxyError, RateLimited, Unauthorized
from proxy.http.bodies import receive_body
from proxy.http.errors import JSON_MEDIA_TYPE, error_reply
from proxy.http.reply import Reply, json_reply
from proxy.live import ConfigSet
from proxy.observability.access import client_address
from proxy.observability.logging import bind_request_id, get_logger
from proxy.stages.dispatch import Exchange, LegacyRequest
from proxy.tenants import Tenant

__all__ = ["LegacySurface"]

_log = get_logger(__name__)
_UNROUTED_KINDS = {404: "route_not_found", 405: "method_not_allowed"}


class LegacySurface:
    def __init__(self, deps: LegacyDeps, *, other: ASGIApp) -> None:
        self._deps = deps
        self._other = other
        self._tables = RouteTables()
        self._ledger = LedgerGate(deps.ledger, clock=deps.clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._other(scope, receive, send)
            return
        config = self._deps.live.current
        table = self._tables.for_set(config)
        path: str = scope["path"]
        errors = table.families.for_path(path)
        if errors is None:
            await self._other(scope, receive, send)
            return
        headers = RequestHeaders.of(scope)
        # The caller's X-Request-Id when it is a sane token, else a fresh one; bound to
        # the logging context so every line of this request carries it.
        request_id = bind_request_id(headers.request_id)
        try:
            found = table.match(scope["method"], path)
            if isinstance(found, int):
                # No body is read: a client sending one gets its answer without it.
                status, body = errors.render(_UNROUTED_KINDS[found], trace_id=request_id)
                reply = json_reply(status, body, request_id=None, content_type=JSON_MEDIA_TYPE)
            elif isinstance(found.target, AuthTarget):
                reply = await authenticate(
                    self._deps,
                    config.tenants,
                    found.target,
                    headers=headers,
                    receive=receive,
                    address=client_address(scope),
                    request_id=request_id,
                )
            else:
                reply = await self._operation(
                    config, found, found.target, scope, receive, headers, request_id
                )
        except Exception:
            # Every step renders its own errors; this is a bug in one of them.
            _log.exception("legacy request failed unexpectedly", request_id=request_id)
            reply = error_reply(errors, RuntimeError(), request_id=request_id)
        await reply.send(send)

    async def _operation(
        self,
        config: ConfigSet,
        matched: Matched,
        target: OperationTarget,
        scope: Scope,
        receive: Receive,
        headers: RequestHeaders,
        request_id: str,
    ) -> Reply:
        deps = self._deps
        product, route = target.product, target.route
        operation = route.operation
        outcome = Outcome(
            request_id=request_id,
            method=scope["method"],
            template=target.template,
            product=product.name,
            operation=operation.name,
            client=client_address(scope),
            started=time.perf_counter(),
        )
        try:
            tenant = _authenticate(deps, config, headers.authorization, target)
            outcome.tenant = tenant.id
            # After authentication, before any work: the 429 costs the tenant nothing
            # billable and the proxy almost nothing.
            await deps.rate_limiter.check(tenant.id, tenant.rate_limit)
            body = (
                await receive_body(receive, content_length=headers.content_length, limit=deps.max_body_bytes)
                if route.spec.method != "GET"
                else b""
            )
            outcome.request_bytes = len(body)
            transaction_param = route.spec.transaction_id
            exchange = outcome.exchange = Exchange(
                product=product,
                operation=operation,
                tenant=tenant,
                environment=target.environment,
                request=LegacyRequest(
                    method=outcome.method,
                    # As declared, whatever letter case or trailing slash the client used
                    # (the legacy simulator's routing is exact).
                    path=matched.path(),
                    query=scope.get("query_string", b""),
                    body=body,
                    content_type=headers.content_type,
                ),
                transaction_id=matched.params.get(transaction_param) if transaction_param else None,
                request_id=request_id,
            )
            stage = outcome.stage = deps.stages.stage_for(tenant, product.name)
            answer = outcome.answer = await deps.dispatcher.answer(exchange, stage)
            # The content type as it came: legacy answers pass unchanged.
            reply = json_reply(
                answer.status, answer.body, request_id=request_id, content_type=answer.content_type
            )
        except RateLimited as error:
            deps.metrics.count_shed(tenant=outcome.tenant, product=product.name, reason="rate_limited")
            reply = error_reply(product.errors, error, request_id=request_id)
        except ProxyError as error:
            reply = error_reply(product.errors, error, request_id=request_id)
        except Exception:
            _log.exception("operation failed unexpectedly", request_id=request_id, operation=operation.name)
            reply = error_reply(product.errors, RuntimeError(), request_id=request_id)
        reply = await self._ledger.settle(outcome, reply, product.errors)
        elapsed_s = time.perf_counter() - outcome.started
        for observer in deps.observers:
            observer.observe(outcome, reply, elapsed_s)
        return reply


def _authenticate(
    deps: LegacyDeps, config: ConfigSet, authorization: str | None, target: OperationTarget
) -> Tenant:
    """The tenant a bearer token speaks for, if it may call this product (401, 403)."""
    principal = deps.tokens.verify(authorization, environment=target.environment)
    tenant = config.tenants.get(principal.tenant_id)
    if tenant is None:
        raise Unauthorized("the token's tenant is no longer configured")
    product = target.product.name
    if product not in principal.products:
        raise Forbidden("the token was not issued for this product")
    tenant.require_product(product)
    return tenant
