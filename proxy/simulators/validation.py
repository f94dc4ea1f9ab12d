"""Request bodies bound and checked against the PDT schemas in ``mappings/pdt/schemas``.

A body is first bound as ASP.NET Core would (``proxy.simulators.binding``), then checked
against the schema without its ``x-reconstructed`` constraints. fastjsonschema decides
(it is fast and stops at the first problem); only a refused body pays for jsonschema,
which lists every problem the way ASP.NET's ``errors`` object does. Messages name the
rule broken, never the value sent: simulator logs may hold them, and the values are
personal data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import fastjsonschema
import jsonschema

from proxy.errors import ConfigError
from proxy.simulators.binding import compile_binder, simulator_schema

__all__ = ["BodyValidator", "read_schema"]

_MESSAGES: Final[Mapping[str, str]] = {
    "type": "The value has the wrong type.",
    "pattern": "The value has an invalid format.",
    "enum": "The value is not one of the accepted values.",
    "minLength": "The value is too short.",
    "maxLength": "The value is too long.",
    "minimum": "The value is too small.",
    "maximum": "The value is too large.",
}
_ROOT: Final = "$"


def read_schema(schemas_dir: Path, name: str) -> dict[str, Any]:
    path = schemas_dir / name
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the schema: {exc}") from exc
    if not isinstance(schema, dict):
        raise ConfigError(f"{path}: a schema must be a JSON object")
    return schema


class BodyValidator:
    """Binding of a request body to one schema, and the bound body's field errors."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.bind = compile_binder(schema)
        enforced = simulator_schema(schema)
        self.properties: frozenset[str] = frozenset(enforced.get("properties", {}))
        self._accepts: Callable[[Any], Any] = fastjsonschema.compile(enforced)
        self._explainer = jsonschema.Draft7Validator(enforced)

    def errors(self, body: Any) -> dict[str, list[str]]:
        try:
            self._accepts(body)
        except fastjsonschema.JsonSchemaValueException:
            return self._explain(body)
        return {}

    def _explain(self, body: Any) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for error in self._explainer.iter_errors(body):
            for field, message in _describe(error):
                messages = found.setdefault(field, [])
                # jsonschema reports a "required" error once per missing member, and each
                # names them all: keep one message per member, as ASP.NET does.
                if message not in messages:
                    messages.append(message)
        # Should the two validators ever disagree, the body still gets a 400 that says so.
        return found or {_ROOT: ["The body is invalid."]}


def _describe(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    where = [str(part) for part in error.absolute_path]
    instance, rule, schema = error.instance, error.validator_value, error.schema
    if error.validator == "required" and isinstance(instance, dict) and isinstance(rule, list):
        missing = [name for name in rule if name not in instance]
        return [(_field([*where, name]), f"The {name} field is required.") for name in missing]
    if error.validator == "additionalProperties" and isinstance(instance, dict) and isinstance(schema, dict):
        unknown = [name for name in instance if name not in schema.get("properties", {})]
        return [(_field([*where, name]), "The field is not part of the contract.") for name in unknown]
    return [(_field(where), _MESSAGES.get(str(error.validator), "The value is invalid."))]


def _field(path: list[str]) -> str:
    return ".".join(path) or _ROOT
