"""The legacy simulator's endpoints: every route each ``product.yaml`` declares, on each prefix.

Routes come from the mapping catalog, as the proxy's do; an operation this module
has no handler for stops startup. Checks run in the legacy backends' order:
token (401), product grant (403), body (400), then the transaction id (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proxy.errors import (
    BadCredentials,
    ConfigError,
    Forbidden,
    NotFound,
    ProxyError,
    Unauthorized,
    ValidationFailed,
)
from proxy.http.bodies import read_json
from proxy.mapping.catalog import Product
from proxy.mapping.error_table import ErrorTable
from proxy.mapping.operation import Operation
from proxy.observability.logging import get_logger
from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy import datatrust, ffr, mobile_trust
from proxy.simulators.legacy.facts import digits
from proxy.simulators.legacy.sms import sms_reply, sms_status
from proxy.simulators.legacy.state import LegacySimulator
from proxy.simulators.legacy.store import LegacyTransaction
from proxy.simulators.legacy.vocabulary import DATATRUST, FFR, MOBILE_TRUST
from proxy.simulators.legacy.wire import error_answer, expiry_value, json_response
from proxy.simulators.otp import check_code, parse_channel
from proxy.simulators.sessions import Sessions
from proxy.simulators.store import Channel, OneTimeToken
from proxy.simulators.wire import iso_timestamp

__all__ = ["SIMULATED_PRODUCTS", "legacy_routes"]

_log = get_logger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]
SIMULATED_PRODUCTS: Final = frozenset({DATATRUST, FFR, MOBILE_TRUST})
# What a 2FA code is sent to on each channel (Data Trust).
_CHANNEL_ENTITY: Final[dict[Channel, Entity]] = {"Sms": "Phone", "Email": "Email"}
_CHANNEL_TARGET: Final[dict[Channel, str]] = {"Sms": "phone", "Email": "e-mail"}


@dataclass(frozen=True, slots=True)
class _Context:
    product: Product
    operation: Operation
    environment: str
    sessions: Sessions
    transaction_param: str | None


Handler = Callable[[Request, _Context], Awaitable[Response]]


class _Endpoints:
    def __init__(self, simulator: LegacySimulator) -> None:
        self.sim = simulator
        self.vocabulary = simulator.vocabularies

    # -- shared steps -------------------------------------------------------------

    def _owner(self, request: Request, ctx: _Context) -> str:
        username = ctx.sessions.owner_of(request.headers.get("authorization"))
        if username is None:
            raise Unauthorized("missing, unknown or expired token")
        if not self.sim.may_use(username, ctx.product.name):
            raise Forbidden("the account has no access to this product")
        return f"{ctx.environment}:{username}"

    async def _body(self, request: Request, errors: ErrorTable, *, allow_form: bool = False) -> Any:
        settings = self.sim.settings
        return await read_json(
            request,
            limit=settings.max_body_bytes,
            max_depth=settings.max_json_depth,
            errors=errors,
            allow_form=allow_form,
        )

    async def _request(self, request: Request, ctx: _Context) -> dict[str, Any]:
        return ctx.operation.parse_request(await self._body(request, ctx.product.errors))

    def _find(self, request: Request, ctx: _Context, owner: str) -> LegacyTransaction:
        transaction_id = request.path_params[ctx.transaction_param] if ctx.transaction_param else ""
        transaction = self.sim.store.get(transaction_id, owner=owner, product=ctx.product.name)
        if transaction is None:
            raise NotFound("unknown transaction id")
        return transaction

    def _new(
        self, ctx: _Context, owner: str, document: Any, present: frozenset[Entity], reference: Any
    ) -> LegacyTransaction:
        profile = self.sim.profile_for(digits(document) or "")
        return LegacyTransaction(
            id=str(uuid.uuid4()),
            product=ctx.product.name,
            owner=owner,
            created_at=iso_timestamp(self.sim.clock()),
            profile=profile,
            present=present,
            perturbation=self.sim.perturbation_for(profile.document),
            reference=reference if isinstance(reference, str) else None,
        )

    def _datatrust_answer(self, transaction: LegacyTransaction) -> dict[str, Any]:
        return datatrust.answer(
            transaction, self.vocabulary.datatrust_insights, self.vocabulary.datatrust_ratings
        )

    def _mobile_trust_answer(self, transaction: LegacyTransaction, *, now: float) -> dict[str, Any]:
        settings = self.sim.settings
        status = sms_status(
            sent_at=transaction.sms_sent_at,
            reply=transaction.sms_reply,
            now=now,
            reply_after_s=settings.sms_reply_after_s,
            expiry_s=settings.code_ttl_s,
        )
        return mobile_trust.answer(
            transaction,
            self.vocabulary.mobile_trust_insights,
            self.vocabulary.mobile_trust_ratings,
            sms_status=status,
        )

    # -- authentication -------------------------------------------------------------

    def authentication(self, product: Product, sessions: Sessions, sharing: frozenset[str]) -> Endpoint:
        auth = product.authentication
        spec = auth.spec

        async def authenticate(request: Request) -> Response:
            body = await self._body(request, product.errors, allow_form="form" in spec.encodings)
            fields = auth.gate.parse(body)
            username, password = str(fields[spec.username]), str(fields[spec.password])
            if not any(self.sim.may_use(username, name) for name in sharing):
                raise BadCredentials("the account has none of this endpoint's products")
            token = sessions.login(username, password)
            if token is None:
                raise BadCredentials("wrong username or password")
            expiry = expiry_value(spec.response.expiry, now=self.sim.clock(), ttl_s=sessions.ttl_s)
            return json_response({spec.response.token: token, spec.response.expiry.field: expiry})

        return authenticate

    # -- Data Trust v1 ----------------------------------------------------------------

    async def datatrust_create(self, request: Request, ctx: _Context) -> Response:
        owner = self._owner(request, ctx)
        legacy = await self._request(request, ctx)
        present = datatrust.request_entities(legacy)
        transaction = self._new(ctx, owner, legacy["Document"], present, legacy.get("IdentifierId"))
        self.sim.store.add(transaction)
        return json_response(self._datatrust_answer(transaction), ctx.operation.status)

    async def datatrust_get(self, request: Request, ctx: _Context) -> Response:
        transaction = self._find(request, ctx, self._owner(request, ctx))
        return json_response(self._datatrust_answer(transaction), ctx.operation.status)

    @staticmethod
    def _channel(legacy: dict[str, Any]) -> Channel:
        channel = parse_channel(str(legacy.get("Channel", "")))
        if channel is None:
            raise ValidationFailed({"Channel": ["The value is not valid for Channel."]})
        return channel

    async def datatrust_send_token(self, request: Request, ctx: _Context) -> Response:
        owner = self._owner(request, ctx)
        channel = self._channel(await self._request(request, ctx))
        transaction = self._find(request, ctx, owner)
        if _CHANNEL_ENTITY[channel] not in transaction.present:
            target = _CHANNEL_TARGET[channel]
            raise ValidationFailed({"Channel": [f"The transaction has no {target} to send a token to."]})
        now = self.sim.clock()
        token = OneTimeToken(channel=channel, sent_at=now, created_at=iso_timestamp(now))
        transaction.tokens[channel] = token
        return json_response({"status": token.status, "createdAt": token.created_at}, ctx.operation.status)

    async def datatrust_validate_token(self, request: Request, ctx: _Context) -> Response:
        owner = self._owner(request, ctx)
        legacy = await self._request(request, ctx)
        channel = self._channel(legacy)
        transaction = self._find(request, ctx, owner)
        token = transaction.tokens.get(channel)
        if token is None:
            raise ValidationFailed({"Value": ["No token was sent on this channel for the transaction."]})
        status = check_code(
            token,
            transaction.id,
            str(legacy["Value"]),
            now=self.sim.clock(),
            ttl_s=self.sim.settings.code_ttl_s,
        )
        if channel == "Sms" and status == "Valid":
            transaction.phone_checked = True
        body = {"status": status, "type": channel, "createdAt": token.created_at}
        return json_response(body, ctx.operation.status)

    # -- Financial Fraud Radar ----------------------------------------------------------

    async def ffr_score(self, request: Request, ctx: _Context) -> Response:
        owner = self._owner(request, ctx)
        legacy = await self._request(request, ctx)
        transaction = self._new(
            ctx, owner, legacy["Cpf"], ffr.request_entities(legacy), legacy.get("OrderID")
        )
        # FFR has no route that reads a proposal back: nothing to store.
        return json_response(ffr.answer(transaction, self.vocabulary.ffr), ctx.operation.status)

    # -- Mobile Trust ---------------------------------------------------------------------

    async def mobile_trust_create(self, request: Request, ctx: _Context) -> Response:
        owner = self._owner(request, ctx)
        legacy = await self._request(request, ctx)
        present = mobile_trust.request_entities(legacy)
        transaction = self._new(ctx, owner, legacy["Document"], present, None)
        now = self.sim.clock()
        # An absent BlockSmsSending bound to false in ASP.NET: the SMS goes out.
        if legacy.get("BlockSmsSending") is not True:
            transaction.sms_sent_at = now
            transaction.sms_reply = sms_reply(transaction.id, transaction.profile.risk_score)
        self.sim.store.add(transaction)
        return json_response(self._mobile_trust_answer(transaction, now=now), ctx.operation.status)

    async def mobile_trust_get(self, request: Request, ctx: _Context) -> Response:
        transaction = self._find(request, ctx, self._owner(request, ctx))
        return json_response(
            self._mobile_trust_answer(transaction, now=self.sim.clock()), ctx.operation.status
        )

    def handlers(self) -> dict[str, Handler]:
        """Operation name (as the mapping files name it) -> its handler."""
        return {
            "datatrust.transaction.create": self.datatrust_create,
            "datatrust.transaction.get": self.datatrust_get,
            "datatrust.token.send": self.datatrust_send_token,
            "datatrust.token.validate": self.datatrust_validate_token,
            "ffr.score": self.ffr_score,
            "mobiletrust.transaction.create": self.mobile_trust_create,
            "mobiletrust.transaction.get": self.mobile_trust_get,
        }


def _guarded(endpoint: Endpoint, errors: ErrorTable, name: str) -> Endpoint:
    """Every failure becomes the family's error body; a bug is logged, never shown."""

    async def guarded(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ProxyError as error:
            return error_answer(errors, error)
        except Exception:
            _log.exception("legacy simulator: unexpected error", operation=name)
            return error_answer(errors, RuntimeError())

    return guarded


def _bound(handler: Handler, ctx: _Context) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await handler(request, ctx)

    return endpoint


def legacy_routes(simulator: LegacySimulator) -> list[Route]:
    """Every declared route of the simulated products, on each of their prefixes."""
    endpoints = _Endpoints(simulator)
    handlers = endpoints.handlers()
    catalog = simulator.catalog
    products = [product for name, product in catalog.products.items() if name in SIMULATED_PRODUCTS]
    routes: list[Route] = []
    authentication_paths: set[str] = set()
    for product in products:
        for environment, prefix in product.spec.prefixes.items():
            auth_path = prefix + product.authentication.spec.path
            sessions = simulator.sessions_for(auth_path)
            if auth_path not in authentication_paths:
                authentication_paths.add(auth_path)
                # FFR and Mobile Trust share one login; its tokens reach both.
                sharing = frozenset(
                    other.name
                    for other in products
                    if other.spec.prefixes.get(environment) == prefix
                    and other.authentication.spec.path == product.authentication.spec.path
                )
                endpoint = endpoints.authentication(product, sessions, sharing)
                guarded = _guarded(endpoint, product.errors, f"{product.name}.authentication")
                routes.append(Route(auth_path, guarded, methods=["POST"]))
            for route in product.routes:
                operation = route.operation
                found = handlers.get(operation.name)
                if found is None:
                    raise ConfigError(
                        f"{product.name}: the legacy simulator cannot answer {operation.name!r}"
                    )
                context = _Context(product, operation, environment, sessions, route.spec.transaction_id)
                guarded = _guarded(_bound(found, context), product.errors, operation.name)
                routes.append(Route(prefix + route.spec.path, guarded, methods=[route.spec.method]))
    return routes
