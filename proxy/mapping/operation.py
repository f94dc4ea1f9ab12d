"""One compiled legacy operation: validate, translate to PDT, translate back.

Everything here is pure. The orchestration that calls PDT (``proxy.stages``) holds
an ``Operation`` and asks it, in order: ``parse_request`` (legacy body → bound,
validated legacy document), ``to_pdt`` (→ PDT request body), ``modules_for`` /
``channel_of`` (which PDT calls to make), and ``to_legacy`` (PDT answers → legacy
answer + the unmapped codes it met).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proxy.errors import UpstreamMalformed, ValidationFailed
from proxy.mapping.binding import Binder, BindingRefused
from proxy.mapping.compiler import Mapper, MapperFailure
from proxy.mapping.error_table import ErrorTable
from proxy.mapping.paths import MISSING
from proxy.mapping.schemas import CompiledSchema, SchemaViolation
from proxy.mapping.spec import OperationSpec
from proxy.mapping.transforms import Trace

__all__ = ["FollowUp", "Operation", "RequestGate"]


@dataclass(frozen=True)
class RequestGate:
    """Binding + validation of a legacy body against its contract schema."""

    schema: CompiledSchema
    bind: Binder
    errors: ErrorTable

    def parse(self, body: Any) -> dict[str, Any]:
        try:
            bound = self.bind(body)
        except BindingRefused as refused:
            # The legacy binder's refusal ("abc" for an integer) is a type error on
            # that field, in the family's own words.
            message = self.errors.message(SchemaViolation(refused.field, "type", {}))
            raise ValidationFailed({refused.field: [message]}) from None
        if not isinstance(bound, dict):
            raise ValidationFailed({"$": [self.errors.fixed_message("malformed_json")]})
        if not self.schema.is_valid(bound):
            field_errors: dict[str, list[str]] = {}
            for violation in self.schema.violations(bound):
                field_errors.setdefault(violation.field, []).append(self.errors.message(violation))
            raise ValidationFailed(field_errors)
        return bound


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A PDT call made after the transaction, unless the legacy request says otherwise."""

    call: str
    channel: str
    unless: Callable[[Any, Trace], bool] | None = field(repr=False)
    # Both from the PDT vocabulary's channel: the key PDT's "all results" answer lists
    # the channel's tokens under, and the name the ledger records the send as.
    view_key: str
    module: str


@dataclass(frozen=True, kw_only=True)
class Operation:
    name: str
    file: str
    spec: OperationSpec = field(repr=False)
    gate: RequestGate | None = field(repr=False)
    request_mapper: Mapper | None = field(repr=False)
    pdt_request: CompiledSchema | None = field(repr=False)
    channel: Callable[[Any, Trace], Any] | None = field(repr=False)
    module_guards: tuple[tuple[str, tuple[Callable[[Any], Any], ...]], ...] = field(repr=False)
    response_mapper: Mapper = field(repr=False)
    pdt_answer: CompiledSchema = field(repr=False)
    legacy_response: CompiledSchema = field(repr=False)
    follow_ups: tuple[FollowUp, ...] = field(default=(), repr=False)

    @property
    def status(self) -> int:
        return self.spec.response.status

    def parse_request(self, body: Any) -> dict[str, Any]:
        """Bind and validate a decoded legacy body; raises ValidationFailed."""
        return self.gate.parse(body) if self.gate is not None else {}

    def to_pdt(self, legacy: dict[str, Any]) -> dict[str, Any]:
        if self.request_mapper is None:
            return {}
        try:
            return self.request_mapper(legacy, Trace())
        except MapperFailure as failure:
            # The contract schema let through a value a rule cannot convert: the
            # caller still gets a field-level 400 in the family's own words (the
            # rule's reason is internal wording), and the rule id reaches the logs.
            message = failure.reason
            if self.gate is not None:
                message = self.gate.errors.message(SchemaViolation(failure.field, "default", {}))
            raise ValidationFailed({failure.field: [message]}) from failure

    def modules_for(self, pdt_body: dict[str, Any]) -> tuple[str, ...]:
        return tuple(
            name
            for name, guards in self.module_guards
            if not guards or any(guard(pdt_body) not in (MISSING, None) for guard in guards)
        )

    def follow_ups_for(self, legacy: dict[str, Any]) -> tuple[FollowUp, ...]:
        """The follow-up calls this legacy request asks for, in declared order."""
        if not self.follow_ups:
            return ()
        trace = Trace()
        return tuple(
            follow_up
            for follow_up in self.follow_ups
            if follow_up.unless is None or not follow_up.unless(legacy, trace)
        )

    def channel_of(self, legacy: dict[str, Any]) -> str:
        if self.channel is None:
            raise ValueError(f"{self.name} has no channel rule")
        value = self.channel(legacy, Trace())
        if not isinstance(value, str) or self.gate is None:
            # Unreachable while the contract schema enumerates the channels; kept so a
            # schema edit that widens them still yields a 400, not a crash.
            field_name = self.spec.channel.source if self.spec.channel else "Channel"
            violation = SchemaViolation(field_name, "enum", {})
            raise ValidationFailed({field_name: [self.gate.errors.message(violation) if self.gate else ""]})
        return value

    def to_legacy(self, pdt_view: Any) -> tuple[dict[str, Any], Trace]:
        """Map a PDT answer to the legacy body; raises UpstreamMalformed if it cannot.

        The one pass over the answer: the response mapper checks each field it reads
        against ``pdt_answer`` as it reads it, and nothing else of the answer.
        """
        trace = Trace()
        try:
            return self.response_mapper(pdt_view, trace), trace
        except MapperFailure as failure:
            raise UpstreamMalformed(f"{self.name}: {failure}") from failure
