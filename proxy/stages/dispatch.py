"""One legacy call, answered by the side its tenant's stage says (``proxy.migration_stage``).

The dispatcher turns every outcome into an ``Answer``: status, body bytes and
content type ready to send, plus what metering, metrics and the shadow comparison
need (side, stage, PDT transaction id, modules, unmapped codes, fallback cause).
A PDT-side failure becomes the product family's legacy error here rather than an
exception, so ``pdt-fallback`` can decide on it and ``shadow`` can compare it.

Calls by transaction id (reads, tokens) go to PDT first under ``canary`` and
``pdt-fallback`` and to the legacy backend when PDT does not know the id: a
transaction created on the legacy side keeps being served there, with no shared
id table between replicas.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from proxy.config import Environment
from proxy.deadline import Deadline
from proxy.errors import (
    NotFound,
    ProxyError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
    ValidationFailed,
)
from proxy.http.bodies import decode_request
from proxy.http.errors import JSON_MEDIA_TYPE
from proxy.mapping.catalog import Product
from proxy.mapping.operation import Operation
from proxy.mapping.transforms import UnmappedCode
from proxy.migration_stage import Stage, canary_bucket
from proxy.observability.logging import get_logger
from proxy.stages.pdt_path import PdtPath
from proxy.tenants import Tenant
from proxy.upstream.legacy import LegacyCall, LegacyClient, LegacyCredential, LegacyLogin
from proxy.upstream.pdt import PdtCall

__all__ = ["Answer", "Dispatcher", "Exchange", "LegacyRequest", "Side", "fallback_cause"]

_log = get_logger(__name__)
Side = Literal["pdt", "legacy"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyRequest:
    """The client's request as received: what the legacy side forwards unchanged."""

    method: str
    path: str
    query: bytes = b""
    body: bytes = b""
    content_type: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    product: Product
    operation: Operation
    tenant: Tenant
    environment: Environment
    request: LegacyRequest
    transaction_id: str | None
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    side: Side
    stage: str
    elapsed_ms: float = 0.0
    transaction_id: str | None = None
    modules: tuple[str, ...] = ()
    unmapped: tuple[UnmappedCode, ...] = ()
    # The proxy error this answer renders, if it is one (PDT side or no legacy answer).
    error: ProxyError | None = field(default=None, repr=False)
    # Why the legacy side answered a pdt-fallback request.
    fallback: str | None = None


# The share of a request's deadline PDT may use when the legacy backend stands behind
# it (pdt-fallback, canary reads): the rest is left for the legacy answer.
_PDT_SHARE_WITH_FALLBACK = 0.6


# PDT calls whose effect reaches the end customer (a code by SMS or e-mail).
_CUSTOMER_VISIBLE_CALLS = frozenset({"sms_token", "email_token"})


def _pdt_share(deadline: Deadline) -> Deadline:
    return Deadline(max(0.0, deadline.remaining() * _PDT_SHARE_WITH_FALLBACK))


def fallback_cause(answer: Answer) -> str | None:
    """Why a PDT-side answer must give way to the legacy backend's, or None if it stands.

    The client's own mistakes (invalid body, forbidden product) stand: the legacy
    backend would refuse them too, and repeating them there only costs a call.
    """
    error = answer.error
    if error is None:
        return None
    if isinstance(error, UpstreamTimeout):
        if error.call in _CUSTOMER_VISIBLE_CALLS:
            # PDT may have sent the code before the answer was lost: the legacy backend
            # would send the end customer a second one. The family's 504 stands.
            return None
        return "timeout"
    if isinstance(error, UpstreamUnavailable):
        return "unavailable"
    if isinstance(error, UpstreamMalformed):
        return "unmappable"
    if isinstance(error, UpstreamRejected):
        return "rejected"
    if isinstance(error, NotFound):
        return "not_found"
    if type(error) is ProxyError:
        return "internal"
    return None


def _legacy_failure(status: int) -> ProxyError:
    if status == 504:
        return UpstreamTimeout('legacy call="forward" answered 504', upstream="legacy", call="forward")
    return UpstreamUnavailable(f'legacy call="forward" answered {status}', upstream="legacy", call="forward")


def _unless_unknown_to_legacy(exchange: Exchange, pdt: Answer, cause: str, legacy: Answer) -> Answer:
    """The legacy answer to a read by id, unless it only says it never saw an id PDT failed on.

    When PDT failed (rather than saying it has no such transaction), the id may well be
    PDT's: the legacy backend's 404 would tell the client its transaction does not
    exist. PDT's failure (the family's 503/504) is the truthful answer then.
    """
    if exchange.transaction_id is not None and cause != "not_found" and legacy.status == 404:
        return pdt
    return legacy


@dataclass
class _Parsed:
    """The legacy body decoded and validated once per exchange, on first need."""

    legacy: dict[str, Any] | None = None
    error: ProxyError | None = None


class Dispatcher:
    def __init__(
        self,
        pdt_path: PdtPath,
        legacy: LegacyClient,
        *,
        deadline_s: float,
        max_json_depth: int,
        canary_key: bytes,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._pdt_path = pdt_path
        self._legacy = legacy
        self._deadline_s = deadline_s
        self._max_depth = max_json_depth
        self._canary_key = canary_key
        self._clock = clock
        self._logins: dict[tuple[str, Environment], LegacyLogin] = {}

    async def answer(self, exchange: Exchange, stage: Stage) -> Answer:
        # One deadline per legacy request, whichever sides it takes.
        deadline = Deadline(self._deadline_s)
        label = stage.label
        if stage.name == "pdt":
            return await self.pdt_side(exchange, label, deadline=deadline)
        if stage.name in ("legacy", "shadow"):
            # The shadow's PDT side is the caller's to schedule: it must not delay this.
            return await self.legacy_side(exchange, label, deadline=deadline)
        if stage.name == "pdt-fallback":
            return await self._with_fallback(exchange, label, deadline)
        return await self._canary(exchange, stage, deadline)

    async def _with_fallback(self, exchange: Exchange, label: str, deadline: Deadline) -> Answer:
        # PDT gets a share of the deadline, so a PDT that hangs still leaves the legacy
        # backend time to answer within the client's patience.
        answer = await self.pdt_side(exchange, label, deadline=_pdt_share(deadline))
        cause = fallback_cause(answer)
        if cause is None:
            return answer
        if cause != "not_found":
            _log.warning("falling back to the legacy backend", request_id=exchange.request_id, cause=cause)
        fallback = await self.legacy_side(exchange, label, fallback=cause, deadline=deadline)
        return _unless_unknown_to_legacy(exchange, answer, cause, fallback)

    async def _canary(self, exchange: Exchange, stage: Stage, deadline: Deadline) -> Answer:
        label = stage.label
        if exchange.transaction_id is not None:
            # A legacy-created id is unknown to PDT, and legacy customers' reads must not
            # depend on PDT being up: whatever PDT could not answer, legacy tries.
            answer = await self.pdt_side(exchange, label, deadline=_pdt_share(deadline))
            cause = fallback_cause(answer)
            if cause is not None:
                legacy = await self.legacy_side(exchange, label, deadline=deadline)
                return _unless_unknown_to_legacy(exchange, answer, cause, legacy)
            return answer
        parsed = self._parse(exchange)
        if parsed.legacy is None:
            # The legacy backend is the authority on what its contract refuses.
            return await self.legacy_side(exchange, label, deadline=deadline)
        document = exchange.operation.to_pdt(parsed.legacy).get("document")
        customer = document if isinstance(document, str) else exchange.request_id
        if self.canary_bucket(exchange.tenant.id, customer) < stage.percent:
            return await self.pdt_side(exchange, label, parsed, deadline=deadline)
        return await self.legacy_side(exchange, label, deadline=deadline)

    def canary_bucket(self, tenant: str, customer: str) -> int:
        """0..99: where ``customer`` falls in ``tenant``'s canary (stable while the canary key is)."""
        return canary_bucket(self._canary_key, tenant, customer)

    async def pdt_side(
        self,
        exchange: Exchange,
        stage: str,
        parsed: _Parsed | None = None,
        *,
        deadline: Deadline | None = None,
        side_effects: bool = True,
    ) -> Answer:
        """The proxy's translated answer, or the legacy error it renders for a failure.

        ``side_effects=False`` (the shadow stage) skips follow-ups the end customer would
        notice twice, such as a second SMS.
        """
        started = self._clock()
        parsed = parsed or self._parse(exchange)
        try:
            if parsed.error is not None:
                raise parsed.error
            legacy = parsed.legacy if parsed.legacy is not None else {}
            call = PdtCall(
                exchange.tenant.credential(exchange.environment),
                deadline or Deadline(self._deadline_s),
                exchange.request_id,
            )
            result = await self._pdt_path.answer(
                exchange.operation,
                exchange.tenant,
                call,
                legacy,
                exchange.transaction_id,
                side_effects=side_effects,
            )
        except ProxyError as error:
            return self._error(exchange, error, "pdt", stage, started)
        except Exception:
            _log.exception(
                "PDT side failed unexpectedly",
                request_id=exchange.request_id,
                operation=exchange.operation.name,
            )
            return self._error(exchange, ProxyError(), "pdt", stage, started)
        return Answer(
            status=exchange.operation.status,
            body=orjson.dumps(result.body),
            content_type=JSON_MEDIA_TYPE,
            side="pdt",
            stage=stage,
            elapsed_ms=(self._clock() - started) * 1000,
            transaction_id=result.transaction_id,
            modules=result.modules,
            unmapped=tuple(result.trace.unmapped),
        )

    async def legacy_side(
        self, exchange: Exchange, stage: str, *, fallback: str | None = None, deadline: Deadline | None = None
    ) -> Answer:
        """The legacy backend's answer as it came, or the family's error when there is none."""
        started = self._clock()
        request = exchange.request
        try:
            account = exchange.tenant.legacy_account(exchange.environment)
            login = self._login(exchange.product, exchange.environment)
            credential = LegacyCredential(
                exchange.environment, login.path, account.username, account.password, exchange.product.name
            )
            call = LegacyCall(
                credential,
                login,
                deadline or Deadline(self._deadline_s),
                exchange.request_id,
                exchange.product.name,
            )
            got = await self._legacy.forward(
                call,
                request.method,
                request.path,
                query=request.query,
                body=request.body,
                content_type=request.content_type,
            )
            if got.status >= 500:
                # The backend's own failure page may hold a stack trace or internal names:
                # the client gets its family's error for it instead, never those bytes.
                raise _legacy_failure(got.status)
        except ProxyError as error:
            return replace(self._error(exchange, error, "legacy", stage, started), fallback=fallback)
        return Answer(
            status=got.status,
            body=got.body,
            content_type=got.content_type or JSON_MEDIA_TYPE,
            side="legacy",
            stage=stage,
            elapsed_ms=(self._clock() - started) * 1000,
            fallback=fallback,
        )

    def _login(self, product: Product, environment: Environment) -> LegacyLogin:
        key = (product.name, environment)
        login = self._logins.get(key)
        if login is None:
            spec = product.authentication.spec
            login = LegacyLogin(product.spec.prefixes[environment] + spec.path, spec)
            self._logins[key] = login
        return login

    def _parse(self, exchange: Exchange) -> _Parsed:
        operation = exchange.operation
        if operation.gate is None:
            return _Parsed(legacy={})
        request = exchange.request
        try:
            decoded = decode_request(
                request.body,
                request.content_type,
                rules=exchange.product.binding.body,
                max_depth=self._max_depth,
                errors=operation.gate.errors,
            )
            return _Parsed(legacy=operation.parse_request(decoded))
        except ProxyError as error:
            return _Parsed(error=error)

    def _error(self, exchange: Exchange, error: ProxyError, side: Side, stage: str, started: float) -> Answer:
        field_errors: Mapping[str, Any] | None = (
            error.field_errors if isinstance(error, ValidationFailed) else None
        )
        status, body = exchange.product.errors.render(
            error.kind, trace_id=exchange.request_id, field_errors=field_errors
        )
        return Answer(
            status=status,
            body=body,
            content_type=JSON_MEDIA_TYPE,
            side=side,
            stage=stage,
            elapsed_ms=(self._clock() - started) * 1000,
            error=error,
        )
