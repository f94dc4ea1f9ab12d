"""The legacy surface: one Starlette route per declared endpoint and path prefix.

Routes come from the mapping catalog, not from code: each product's
``product.yaml`` names its prefixes (PRD and HML), its authentication endpoint and
its operations. The handlers are plain Starlette endpoints, not FastAPI
operations: the legacy contract is validated by compiled JSON Schemas, and
FastAPI's per-request model machinery would cost 1.5-2x for nothing.

Order of checks, as the ASP.NET backends did it: authentication first (401), then
the product grant (403), then the body (400), then the upstream.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proxy.config import Environment
from proxy.edge.bodies import read_body, read_json
from proxy.edge.errors import JSON_MEDIA_TYPE, error_response
from proxy.errors import BadCredentials, Forbidden, ProxyError, RateLimited, Unauthorized
from proxy.ledger.record import LedgerRecord
from proxy.mapping.binding_profile import RoutingRules
from proxy.mapping.catalog import Product
from proxy.mapping.catalog import Route as MappedRoute
from proxy.mapping.spec import ExpirySpec
from proxy.migration_stage import Stage
from proxy.observability.access import AccessEntry, client_address, record_access
from proxy.observability.logging import bind_request_id, get_logger
from proxy.runtime import Runtime
from proxy.stages.dispatch import Answer, Exchange, LegacyRequest

__all__ = ["LegacyRoute", "build_legacy_routes", "request_id_of"]

_log = get_logger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


class LegacyRoute(Route):
    """A route that matches paths as the product's ASP.NET routing did.

    Both Web API 2 and ASP.NET Core matched a route template in any letter case
    and with or without a trailing slash (``routing`` in the binding profile).
    """

    def __init__(
        self, path: str, endpoint: Endpoint, *, methods: list[str], name: str, routing: RoutingRules
    ) -> None:
        super().__init__(path, endpoint, methods=methods, name=name)
        pattern = self.path_regex.pattern
        if routing.trailing_slash:
            pattern = pattern.removesuffix("$") + "/?$"
        self.path_regex = re.compile(pattern, re.IGNORECASE if routing.ignore_case else 0)


def request_id_of(request: Request) -> str:
    """The caller's X-Request-Id when it is a sane token, else a fresh one; bound to
    the logging context so every line of this request carries it."""
    return bind_request_id(request.headers.get("x-request-id"))


def _json(body: Any, status: int, request_id: str) -> Response:
    return Response(
        orjson.dumps(body), status, headers={"x-request-id": request_id}, media_type=JSON_MEDIA_TYPE
    )


def _expiry_value(expiry: ExpirySpec, expires_at: int, ttl_s: int) -> Any:
    if expiry.style == "seconds":
        return ttl_s
    # The older v1 family answered a wall-clock time without offset, in the zone
    # its servers ran in; the mapping declares that zone (the proxy runs in UTC).
    zone = ZoneInfo(expiry.timezone or "UTC")
    return datetime.fromtimestamp(expires_at, zone).strftime("%Y-%m-%dT%H:%M:%S")


def _authentication_endpoint(
    runtime: Runtime, product: Product, environment: str, products: frozenset[str]
) -> Endpoint:
    auth = product.authentication
    spec = auth.spec
    settings = runtime.settings.server
    allow_form = "form" in spec.encodings
    # The family's declared lifetime (product.yaml, with its evidence) unless overridden.
    ttl_s = runtime.settings.security.legacy_token_ttl_s or spec.token_lifetime.seconds

    async def authenticate(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            body = await read_json(
                request,
                limit=settings.max_body_bytes,
                max_depth=settings.max_json_depth,
                errors=product.errors,
                allow_form=allow_form,
                rules=product.binding.body,
            )
            fields = auth.gate.parse(body)
            tenant = await runtime.logins.authenticate(
                runtime.tenants,
                fields[spec.username],
                fields[spec.password],
                # What uvicorn reports: the peer, or X-Forwarded-For from a trusted
                # proxy (FORWARDED_ALLOW_IPS).
                address=request.client.host if request.client else "-",
                product=product.name,
            )
            granted = products & tenant.products
            if not granted:
                raise BadCredentials("tenant has none of the products of this endpoint")
            token, expires_at = runtime.tokens.issue(
                tenant_id=tenant.id,
                username=fields[spec.username],
                environment=environment,
                products=granted,
                ttl_s=ttl_s,
            )
            answer = {
                spec.response.token: token,
                spec.response.expiry.field: _expiry_value(spec.response.expiry, expires_at, ttl_s),
            }
            return _json(answer, 200, request_id)
        except ProxyError as error:
            return error_response(product.errors, error, request_id=request_id)
        except Exception:
            _log.exception("authentication failed unexpectedly", request_id=request_id, product=product.name)
            return error_response(product.errors, RuntimeError(), request_id=request_id)

    return authenticate


def _operation_endpoint(
    runtime: Runtime, product: Product, route: MappedRoute, environment: Environment
) -> Endpoint:
    operation = route.operation
    transaction_param = route.spec.transaction_id
    limit = runtime.settings.server.max_body_bytes
    takes_body = route.spec.method != "GET"
    metrics = runtime.metrics
    unmapped = runtime.unmapped
    ledger = runtime.ledger
    stages = runtime.stages
    dispatcher = runtime.dispatcher
    rate_limiter = runtime.rate_limiter
    # The template, never the URL: a transaction id in a path is still not for logs.
    route_template = product.spec.prefixes[environment] + route.spec.path
    # A path matched in another letter case or with a trailing slash reaches the
    # legacy backend as declared (the simulator's routing is exact).
    has_parameters = "{" in route_template

    async def handle(request: Request) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request)
        tenant_id = "-"
        answer: Answer | None = None
        body = b""
        try:
            principal = runtime.tokens.verify(request.headers.get("authorization"), environment=environment)
            tenant = runtime.tenants.get(principal.tenant_id)
            if tenant is None:
                raise Unauthorized("the token's tenant is no longer configured")
            if product.name not in principal.products:
                raise Forbidden("the token was not issued for this product")
            tenant.require_product(product.name)
            tenant_id = tenant.id
            # After authentication, before any work: the 429 costs the tenant nothing
            # billable and the proxy almost nothing.
            await rate_limiter.check(tenant_id, tenant.rate_limit)
            body = await read_body(request, limit=limit) if takes_body else b""
            exchange = Exchange(
                product,
                operation,
                tenant,
                environment,
                LegacyRequest(
                    request.method,
                    route_template.format(**request.path_params) if has_parameters else route_template,
                    request.scope.get("query_string", b""),
                    body,
                    request.headers.get("content-type"),
                ),
                request.path_params.get(transaction_param) if transaction_param else None,
                request_id,
            )
            stage = stages.stage_for(tenant, product.name)
            answer = await dispatcher.answer(exchange, stage)
            # The content type as a header, not a media type: Starlette would append a
            # charset to a legacy backend's text/* answer, and legacy answers pass unchanged.
            response = Response(
                answer.body,
                answer.status,
                headers={"content-type": answer.content_type, "x-request-id": request_id},
            )
            _after_answer(runtime, exchange, stage, answer)
        except RateLimited as error:
            metrics.count_shed(tenant=tenant_id, product=product.name, reason="rate_limited")
            response = error_response(product.errors, error, request_id=request_id)
        except ProxyError as error:
            response = error_response(product.errors, error, request_id=request_id)
        except Exception:
            _log.exception("operation failed unexpectedly", request_id=request_id, operation=operation.name)
            response = error_response(product.errors, RuntimeError(), request_id=request_id)
        if answer is not None and answer.unmapped:
            unmapped.report(tenant=tenant_id, operation=operation.name, codes=answer.unmapped)
        if tenant_id != "-":
            # Metering (proxy/ledger): the answer leaves only once its record is
            # durable. If it cannot be, a would-be success becomes the legacy 503;
            # an error answer bills nothing and is sent as it is.
            try:
                await ledger.record(
                    LedgerRecord(
                        at=runtime.clock(),
                        tenant=tenant_id,
                        product=product.name,
                        operation=operation.name,
                        stage=answer.stage if answer else "-",
                        side=answer.side if answer else "-",
                        pdt_transaction_id=answer.transaction_id if answer else None,
                        modules=answer.modules if answer else (),
                        status=response.status_code,
                        latency_ms=(time.perf_counter() - started) * 1000,
                        request_id=request_id,
                        fallback=answer.fallback if answer else None,
                    )
                )
            except ProxyError as error:
                if response.status_code < 400:
                    response = error_response(product.errors, error, request_id=request_id)
        elapsed = time.perf_counter() - started
        metrics.observe_request(
            tenant=tenant_id,
            product=product.name,
            operation=operation.name,
            stage=answer.stage if answer else "-",
            side=answer.side if answer else "-",
            status=response.status_code,
            duration_s=elapsed,
        )
        record_access(
            AccessEntry(
                request.method,
                route_template,
                response.status_code,
                elapsed * 1000,
                tenant_id,
                product.name,
                operation.name,
                answer.stage if answer else "-",
                answer.side if answer else "-",
                answer.elapsed_ms if answer else None,
                len(body),
                len(response.body),
                client_address(request.scope),
                request_id,
            )
        )
        return response

    return handle


def _after_answer(runtime: Runtime, exchange: Exchange, stage: Stage, answer: Answer) -> None:
    """What an answer sets off besides itself: shadow sample, metrics, logs. Never awaits."""
    tenant, product = exchange.tenant.id, exchange.product.name
    if answer.side == "legacy" and answer.error is None:
        # Per tenant: whether anything still reaches the legacy backend before it is switched off.
        runtime.metrics.observe_legacy_call(tenant=tenant, product=product)
        runtime.legacy_traffic.record(tenant, product)
    if answer.fallback is not None:
        runtime.metrics.count_fallback(tenant=tenant, product=product, cause=answer.fallback)
    if stage.name == "shadow" and answer.error is None and runtime.shadow is not None:
        runtime.shadow.offer(exchange, answer)
    if answer.side == "legacy":
        # Sampled, masked, for replaying mapping changes against real traffic shapes.
        runtime.recorder.offer(exchange, answer)
    if answer.status >= 500 and answer.error is not None:
        _log.warning(
            "upstream failure",
            request_id=exchange.request_id,
            side=answer.side,
            error=type(answer.error).__name__,
            detail=str(answer.error),
        )


def build_legacy_routes(runtime: Runtime) -> list[Route]:
    """Every legacy route of every product, on each of its environment prefixes."""
    routes: list[Route] = []
    auth_paths: set[str] = set()
    catalog = runtime.catalog
    for product in catalog.products.values():
        for environment, prefix in product.spec.prefixes.items():
            auth_path = prefix + product.authentication.spec.path
            if auth_path not in auth_paths:
                # Products sharing an authentication endpoint (FFR and Mobile Trust)
                # get one route whose token names all of them.
                sharing = frozenset(
                    other.name
                    for other in catalog.products.values()
                    if other.spec.prefixes.get(environment) == prefix
                    and other.authentication.spec.path == product.authentication.spec.path
                )
                endpoint = _authentication_endpoint(runtime, product, environment, sharing)
                routes.append(
                    LegacyRoute(
                        auth_path,
                        endpoint,
                        methods=["POST"],
                        name=f"{product.name}:auth:{environment}",
                        routing=product.binding.routing,
                    )
                )
                auth_paths.add(auth_path)
            for route in product.routes:
                routes.append(
                    LegacyRoute(
                        prefix + route.spec.path,
                        _operation_endpoint(runtime, product, route, environment),
                        methods=[route.spec.method],
                        name=f"{route.operation.name}:{environment}",
                        routing=product.binding.routing,
                    )
                )
    return routes
