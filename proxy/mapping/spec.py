"""The shape of the mapping files, as typed models (parsing only, no behaviour).

A product directory under ``mappings/`` holds:

- ``product.yaml``: path prefixes per environment, authentication, routes;
- ``errors.yaml``: the product family's error bodies and validation messages;
- ``tables.yaml`` + CSV files: DE-PARA code tables;
- ``operations/*.yaml``: per operation, the request rules (legacy → PDT), the PDT
  calls to make, and the response rules (PDT → legacy), in full or in the short
  forms ``proxy.mapping.shorthand`` writes out before these models parse them;
- ``contract/*.json``: the legacy contract as JSON Schema.

The README under ``mappings/`` documents every key with examples.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from proxy.mapping.converters import converter_names
from proxy.mapping.shorthand import expand_rules

__all__ = [
    "AuthenticationSpec",
    "BindingSpec",
    "Condition",
    "EachSpec",
    "ExpirySpec",
    "FieldRule",
    "FollowUpSpec",
    "ModuleSpec",
    "OperationSpec",
    "OrderSpec",
    "PickSpec",
    "ProductSpec",
    "RequestSpec",
    "ResponseSpec",
    "RouteSpec",
    "RoutingSpec",
    "UnroutedAnswer",
    "UnroutedSpec",
    "ValueSpec",
]

Evidence = str
_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
PdtCall = Literal["transaction", "get_all", "send_token", "validate_token"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ValueSpec(_Spec):
    """Where a value comes from and how it is converted: ``from`` + ``transform``."""

    source: str = Field(alias="from")
    transform: Any = None


class Condition(ValueSpec):
    equals: Any = None
    one_of: list[Any] | None = Field(default=None, alias="in")

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.equals is None) == (self.one_of is None):
            raise ValueError("a condition takes exactly one of 'equals' or 'in'")
        return self


class OrderSpec(ValueSpec):
    descending: bool = False


class EachSpec(_Spec):
    """Build a list: one output item per source item, optionally filtered, ordered, capped."""

    fields: list[FieldRule] = Field(min_length=1)
    where: Condition | None = None
    order_by: OrderSpec | None = None
    limit: int | None = Field(default=None, ge=1)

    @field_validator("fields", mode="before")
    @classmethod
    def _expand(cls, raw: Any) -> Any:
        return expand_rules(raw)


class PickSpec(_Spec):
    """Build one object from a list: the first item ``prefer`` accepts, else the first item.

    PDT takes one address and one phone where some legacy bodies send lists.
    """

    fields: list[FieldRule] = Field(min_length=1)
    prefer: Condition | None = None

    @field_validator("fields", mode="before")
    @classmethod
    def _expand(cls, raw: Any) -> Any:
        return expand_rules(raw)


class FieldRule(_Spec):
    """One DE-PARA rule: the ``to`` field is filled from ``from`` through ``transform``.

    ``default`` applies when the source is absent or its transform yields nothing
    (a blank string after ``trim``); ``default: null`` writes a JSON null. Without
    a default, the target is left out. ``required``
    makes an absent source an error: a bad request on the request side, an
    unmappable answer on the response side. ``convert`` names a registered
    Python converter (``proxy.mapping.converters``) run before ``transform``.
    Without ``id``, the rule is named by its target path.
    """

    # A kebab-case name, or the target path it defaults to (``Reports.Negative[].Code``),
    # hence capitals and brackets; ``_id_is_a_name_or_the_target`` tells them apart.
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-\[\]]*$")
    to: str
    source: str | None = Field(default=None, alias="from")
    transform: Any = None
    default: Any = None
    required: bool = False
    # Apply the rule only when this source field is present (e.g. a default for
    # Phone.CountryCode only when there is a Phone at all).
    when: str | None = None
    description: str | None = None
    each: EachSpec | None = None
    pick: PickSpec | None = None
    convert: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _id_defaults_to_target(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "id" not in raw and isinstance(raw.get("to"), str):
            return {**raw, "id": raw["to"]}
        return raw

    @field_validator("convert")
    @classmethod
    def _known_converter(cls, name: str | None) -> str | None:
        if name is not None and name not in converter_names():
            raise ValueError(f"unknown converter {name!r} (known: {', '.join(converter_names())})")
        return name

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @model_validator(mode="after")
    def _id_is_a_name_or_the_target(self) -> FieldRule:
        # A capital or a bracket is only right in an id that ends with the rule's own
        # target path (the default): ``DT.Req.Name`` for ``name`` is a typo.
        if not _NAME.match(self.id) and not (self.id == self.to or self.id.endswith("." + self.to)):
            raise ValueError(
                f"id {self.id!r}: an id is lower-case (a-z, 0-9, '.', '-') or the rule's target path"
            )
        return self

    @model_validator(mode="after")
    def _has_a_source(self) -> FieldRule:
        for name, nested in (("each", self.each), ("pick", self.pick)):
            if nested is not None and self.source is None:
                raise ValueError(f"'{name}' needs 'from' naming the source list")
        if self.source is None and not self.has_default and self.transform is None:
            raise ValueError("a rule needs 'from', a 'default' or a constant 'transform'")
        if self.each is not None and self.pick is not None:
            raise ValueError("a rule takes 'each' or 'pick', not both")
        if self.convert is not None and self.source is None:
            raise ValueError("'convert' needs 'from' naming the value it converts")
        return self


class RequestSpec(_Spec):
    schema_file: str = Field(alias="schema")
    # None when the PDT call takes no body (the legacy body only steers the call).
    target_schema: str | None = None
    rules: list[FieldRule] = Field(default_factory=list)

    @field_validator("rules", mode="before")
    @classmethod
    def _expand(cls, raw: Any) -> Any:
        return expand_rules(raw)

    @model_validator(mode="after")
    def _rules_need_a_target(self) -> RequestSpec:
        if self.rules and self.target_schema is None:
            raise ValueError("request rules need a 'target_schema'")
        return self


class ResponseSpec(_Spec):
    schema_file: str = Field(alias="schema")
    source_schema: str
    status: int = Field(default=200, ge=200, le=299)
    rules: list[FieldRule] = Field(default_factory=list)
    # Reuse another operation file's response rules (same answer, same rule ids).
    rules_from: str | None = None

    @field_validator("rules", mode="before")
    @classmethod
    def _expand(cls, raw: Any) -> Any:
        return expand_rules(raw)

    @model_validator(mode="after")
    def _rules_or_reference(self) -> ResponseSpec:
        if bool(self.rules) == (self.rules_from is not None):
            raise ValueError("a response takes either 'rules' or 'rules_from'")
        return self


class ModuleSpec(_Spec):
    # A module of the PDT vocabulary (mappings/pdt/vocabulary.yaml), checked by the loader.
    name: str
    # Call the module only when one of these PDT request fields is present (PDT
    # needs address, phone or e-mail for ratings).
    when_any: list[str] = Field(default_factory=list)


class FollowUpSpec(_Spec):
    """A PDT call made after the transaction and its modules, when the legacy request asks.

    Mobile Trust's ``BlockSmsSending: false`` becomes PDT's SMS token call; its answer
    joins the view under the channel's ``view_key`` in the PDT vocabulary (``smsTokens``
    as shipped), the key PDT's "all results" call uses for the same data, so POST and
    GET share response rules.
    """

    call: Literal["send_token"]
    # A channel of the PDT vocabulary, checked by the loader.
    channel: str
    # Make the call unless this legacy-request condition holds (absent = make it).
    unless: Condition | None = None


class OperationSpec(_Spec):
    operation: str
    description: str
    evidence: Evidence
    pdt_call: PdtCall
    request: RequestSpec | None = None
    channel: ValueSpec | None = None
    modules: list[ModuleSpec] = Field(default_factory=list)
    pack: str | None = None
    after: list[FollowUpSpec] = Field(default_factory=list)
    response: ResponseSpec

    @model_validator(mode="after")
    def _call_needs(self) -> OperationSpec:
        if self.pdt_call == "transaction" and (self.request is None or not self.modules):
            raise ValueError("pdt_call 'transaction' needs 'request' and 'modules'")
        if self.pdt_call in ("send_token", "validate_token") and self.channel is None:
            raise ValueError(f"pdt_call {self.pdt_call!r} needs 'channel'")
        if self.pdt_call == "validate_token" and self.request is None:
            raise ValueError("pdt_call 'validate_token' needs 'request' (the token value)")
        if self.after and self.pdt_call != "transaction":
            raise ValueError("'after' follows a transaction: it needs pdt_call 'transaction'")
        return self


class ExpirySpec(_Spec):
    field: str
    # seconds: a number of seconds; local_datetime: an ISO time without offset,
    # in ``timezone`` (the IANA zone the legacy servers answered in).
    style: Literal["seconds", "local_datetime"]
    timezone: str | None = None

    @model_validator(mode="after")
    def _zone_for_local_times(self) -> ExpirySpec:
        if self.style == "local_datetime":
            if self.timezone is None:
                raise ValueError("style local_datetime needs 'timezone' (an IANA zone name)")
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {self.timezone!r}") from None
        elif self.timezone is not None:
            raise ValueError("'timezone' applies to style local_datetime only")
        return self


class AuthResponseSpec(_Spec):
    schema_file: str = Field(alias="schema")
    token: str
    expiry: ExpirySpec


class TokenLifetimeSpec(_Spec):
    """How long a legacy token the proxy issues lives: what the family's backend gave.

    Data, with its evidence, because no legacy page documents a figure; the setting
    ``security.legacy_token_ttl_s`` overrides every family's when an operator knows better.
    """

    seconds: int = Field(ge=60, le=86400)
    evidence: Evidence = Field(min_length=1)


class AuthenticationSpec(_Spec):
    path: str = Field(pattern=r"^/[A-Za-z0-9/_\-]*$")
    evidence: Evidence
    schema_file: str = Field(alias="schema")
    encodings: list[Literal["json", "form"]] = Field(min_length=1)
    username: str
    password: str
    response: AuthResponseSpec
    token_lifetime: TokenLifetimeSpec


class RouteSpec(_Spec):
    method: Literal["GET", "POST"]
    path: str = Field(pattern=r"^/[A-Za-z0-9/_\-{}]*$")
    operation: str
    evidence: Evidence
    # The path parameter that carries the PDT transaction id, if any.
    transaction_id: str | None = None


class RoutingSpec(_Spec):
    # ASP.NET routing matched a path in any letter case and with a trailing slash.
    ignore_case: bool = False
    trailing_slash: bool = False


class BindingSpec(_Spec):
    """How the product's legacy backend read and bound a request body.

    ``profile`` names the backend's JSON reader and ``conversions`` the value
    conversions of that reader this product makes (``proxy.mapping.conversions``);
    the loader refuses a name either does not know. mappings/README.md, "Binding
    profiles", lists each rule with its source.
    """

    profile: str
    conversions: list[str] = Field(default_factory=list)
    media_types: list[str] = Field(min_length=1)
    charsets: list[str] = Field(default_factory=lambda: ["utf-8"], min_length=1)
    # A charset not in ``charsets``: read as this one (Web API 2), or "refuse" (415).
    unknown_charset: str = "refuse"
    routing: RoutingSpec = Field(default_factory=RoutingSpec)


class ProductSpec(_Spec):
    product: str = Field(pattern=r"^[a-z0-9\-]+$")
    title: str
    prefixes: dict[Literal["prd", "hml"], str]
    errors: str
    tables: str | None = None
    # Absent: exact values and paths (binding.STRICT).
    binding: BindingSpec | None = None
    authentication: AuthenticationSpec
    routes: list[RouteSpec] = Field(min_length=1)


class UnroutedAnswer(_Spec):
    status: int = Field(ge=400, le=599)
    body: Any


class UnroutedSpec(_Spec):
    """``mappings/unrouted.yaml``: the answers for a path under no product's prefix."""

    evidence: Evidence
    errors: dict[Literal["route_not_found", "method_not_allowed"], UnroutedAnswer]


EachSpec.model_rebuild()
PickSpec.model_rebuild()
