"""A product family's error bodies, as data (``mappings/<product>/errors.yaml``).

Every error kind of ``proxy.errors`` must have an entry, so no failure can fall
through to a shape the legacy client does not know. Two placeholders may appear in
a body template: the string ``"{errors}"`` (replaced by the field → messages object
of a validation failure) and ``{trace_id}`` inside a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy import errors
from proxy.errors import MappingError
from proxy.mapping.schemas import SchemaViolation

__all__ = ["REQUIRED_KINDS", "REQUIRED_MESSAGES", "ErrorTable", "parse_error_table"]

# Every ProxyError kind, plus the two the router produces itself.
REQUIRED_KINDS: Final = frozenset(
    {
        cls.kind
        for cls in (
            errors.BadCredentials,
            errors.Unauthorized,
            errors.Forbidden,
            errors.ValidationFailed,
            errors.NotFound,
            errors.PayloadTooLarge,
            errors.UnsupportedMediaType,
            errors.RateLimited,
            errors.Overloaded,
            errors.UpstreamTimeout,
            errors.UpstreamUnavailable,
            errors.UpstreamRejected,
            errors.UpstreamMalformed,
            errors.ProxyError,
        )
    }
    | {"route_not_found", "method_not_allowed"}
)
REQUIRED_MESSAGES: Final = frozenset({"default", "required", "malformed_json", "empty_body"})

_ERRORS_PLACEHOLDER = "{errors}"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    status: int = Field(ge=400, le=599)
    body: Any


class _TableSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    family: str
    evidence: str
    errors: dict[str, _Entry]
    validation_messages: dict[str, str]


def _fill(template: Any, field_errors: Mapping[str, Sequence[str]], trace_id: str) -> Any:
    if isinstance(template, str):
        if template == _ERRORS_PLACEHOLDER:
            return {name: list(messages) for name, messages in field_errors.items()}
        return template.replace("{trace_id}", trace_id) if "{trace_id}" in template else template
    if isinstance(template, dict):
        return {key: _fill(value, field_errors, trace_id) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(value, field_errors, trace_id) for value in template]
    return template


def _is_static(template: Any) -> bool:
    text = orjson.dumps(template).decode()
    return _ERRORS_PLACEHOLDER not in text and "{trace_id}" not in text


@dataclass(frozen=True)
class ErrorTable:
    family: str
    source: str
    entries: Mapping[str, tuple[int, Any]] = field(repr=False)
    messages: Mapping[str, str] = field(repr=False)
    # Bodies without placeholders are encoded once, at load.
    static: Mapping[str, bytes] = field(repr=False)

    def render(
        self, kind: str, *, trace_id: str = "", field_errors: Mapping[str, Sequence[str]] | None = None
    ) -> tuple[int, bytes]:
        status, template = self.entries.get(kind) or self.entries[errors.ProxyError.kind]
        cached = self.static.get(kind)
        if cached is not None:
            return status, cached
        return status, orjson.dumps(_fill(template, field_errors or {}, trace_id))

    def message(self, violation: SchemaViolation) -> str:
        # Most specific first: ``format.cpf`` before ``format`` before ``default``.
        qualifier = violation.params.get("format")
        template = (
            (self.messages.get(f"{violation.keyword}.{qualifier}") if qualifier else None)
            or self.messages.get(violation.keyword)
            or self.messages["default"]
        )
        field_name = violation.field.rsplit(".", 1)[-1]
        values = {"field": field_name, "path": violation.field, **violation.params}
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return self.messages["default"].format(field=field_name, path=violation.field)

    def fixed_message(self, name: str) -> str:
        return self.messages[name]


def parse_error_table(raw: object, *, source: str) -> ErrorTable:
    try:
        spec = _TableSpec.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise MappingError(source, f"{where}: {problem['msg']}") from None
    missing = sorted(REQUIRED_KINDS - set(spec.errors))
    if missing:
        raise MappingError(source, f"no entry for error kinds {missing}")
    missing_messages = sorted(REQUIRED_MESSAGES - set(spec.validation_messages))
    if missing_messages:
        raise MappingError(source, f"validation_messages lacks {missing_messages}")
    entries = {kind: (entry.status, entry.body) for kind, entry in spec.errors.items()}
    static = {kind: orjson.dumps(body) for kind, (_, body) in entries.items() if _is_static(body)}
    return ErrorTable(spec.family, source, entries, dict(spec.validation_messages), static)
