"""Contract schemas: loaded once, compiled once, with jsonschema-rs.

One validator serves both questions a contract is asked: ``is_valid`` (the cheap
check every legacy request pays) and ``violations`` (every broken field, as
ASP.NET listed them, asked only once a body is refused). Measured (callgrind,
instructions per ``is_valid`` on each product's sample body, format predicates
included), jsonschema-rs costs less than the fastjsonschema code generated from a
``$ref``-inlined, ``oneOf``-merged copy did (Data Trust v1 106k against 160k, FFR
124k against 247k, Mobile Trust 105k against 144k), and it lists every error
itself, so no second validator and no rewritten copy of the schema can disagree
with it.

Schemas are local files and may use local ``$ref`` (``#/definitions/...``) only.
Patterns are ECMA-262, as JSON Schema says: ``$`` is the end of the string (a
trailing newline does not match) and ``\\d`` is an ASCII digit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from proxy.errors import MappingError
from proxy.mapping.formats import FORMATS
from proxy.mapping.paths import Path as FieldPath

__all__ = ["CompiledSchema", "SchemaViolation", "load_schema"]


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One broken field: ``field`` in the legacy dotted form (``Phone.AreaCode``)."""

    field: str
    keyword: str
    params: dict[str, Any]


@dataclass(frozen=True)
class CompiledSchema:
    source: str
    schema: dict[str, Any] = field(repr=False)
    _validator: jsonschema_rs.Validator = field(repr=False)

    def is_valid(self, document: Any) -> bool:
        return bool(self._validator.is_valid(document))

    def violations(self, document: Any) -> list[SchemaViolation]:
        """Every broken field of ``document``, in the validator's order; [] when it is valid."""
        found: list[SchemaViolation] = []
        seen: set[tuple[str, str, str]] = set()
        for error in self._validator.iter_errors(document):
            for item in self._violation(error):
                # Two branches may name the same field: report it once.
                key = (item.field, item.keyword, repr(item.params))
                if key not in seen:
                    seen.add(key)
                    found.append(item)
        return found

    def _violation(self, error: jsonschema_rs.ValidationError) -> list[SchemaViolation]:
        kind = error.kind
        if isinstance(
            kind, (jsonschema_rs.ValidationErrorKind.OneOfNotValid, jsonschema_rs.ValidationErrorKind.AnyOf)
        ):
            meant = _meant_branch(error)
            if meant:
                return [item for sub in meant for item in self._violation(sub)]
        base = list(error.instance_path)
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            return [SchemaViolation(_dotted([*base, kind.property]), "required", {})]
        keyword = error.schema_path[-1] if error.schema_path else ""
        if not isinstance(keyword, str):
            keyword = type(kind).__name__
        params: dict[str, Any] = {}
        param = _PARAMS.get(keyword)
        if param is not None:
            params[param] = self._keyword_value(error.schema_path)
        return [SchemaViolation(_dotted(base) or "$", keyword, params)]

    def _keyword_value(self, schema_path: Any) -> Any:
        # The error's schema path runs through what a $ref points to
        # (``definitions/phone/...``), so it resolves in the root document: the value
        # as the contract writes it (``["string", "null"]`` in its own order).
        node: Any = self.schema
        for part in schema_path:
            node = node[part]
        return node

    def resolve(self, path: FieldPath) -> dict[str, Any] | None:
        """The subschema a field path reaches, or None when the contract has no such field."""
        candidates = [self.schema]
        for step in path:
            next_candidates: list[dict[str, Any]] = []
            for node in candidates:
                for branch in self.branches(node):
                    if isinstance(step, int):
                        items = branch.get("items")
                        if isinstance(items, dict):
                            next_candidates.append(items)
                    else:
                        child = branch.get("properties", {}).get(step)
                        if isinstance(child, dict):
                            next_candidates.append(child)
            if not next_candidates:
                return None
            candidates = next_candidates
        return self.deref(candidates[0])

    def deref(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node and seen < 32:
            reference = node["$ref"]
            if not isinstance(reference, str) or not reference.startswith("#/"):
                raise MappingError(self.source, f"only local $ref is supported, not {reference!r}")
            target: Any = self.schema
            for part in reference[2:].split("/"):
                target = target[part]
            node = target
            seen += 1
        return node

    def branches(self, node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        node = self.deref(node)
        yield node
        for keyword in ("allOf", "anyOf", "oneOf"):
            for branch in node.get(keyword, ()):
                yield from self.branches(branch)
        for keyword in ("then", "else"):
            if isinstance(node.get(keyword), dict):
                yield from self.branches(node[keyword])

    def subschema_validator(self, node: dict[str, Any]) -> jsonschema_rs.Validator:
        """A validator for one part of this contract (its ``$ref`` still resolve)."""
        return _compile(self.source, {**node, "definitions": self.schema.get("definitions", {})})


# The keyword values the legacy messages may quote, under the name they use.
_PARAMS = {
    "maxLength": "limit",
    "minLength": "limit",
    "maximum": "limit",
    "minimum": "limit",
    "maxItems": "limit",
    "minItems": "limit",
    "format": "format",
    "type": "type",
    "enum": "allowed",
}


def _dotted(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _meant_branch(error: jsonschema_rs.ValidationError) -> list[jsonschema_rs.ValidationError]:
    """For a failed oneOf/anyOf, the errors of the branch the value was meant for.

    ``Phone`` is ``null`` or an object: a phone object missing ``Number`` should
    report ``Phone.Number is required``, not "Phone is invalid". The branch whose
    only complaint is a type mismatch at the value itself was not the one meant.
    """
    here = list(error.instance_path)
    for errors in getattr(error.kind, "context", None) or ():
        if not all(
            isinstance(sub.kind, jsonschema_rs.ValidationErrorKind.Type) and list(sub.instance_path) == here
            for sub in errors
        ):
            return list(errors)
    return []


def _check_formats(node: Any, source: str) -> None:
    if isinstance(node, dict):
        name = node.get("format")
        if isinstance(name, str) and name not in FORMATS:
            raise MappingError(source, f"format {name!r} is not one of {sorted(FORMATS)}")
        reference = node.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            # A schema is a local file: nothing is fetched while compiling it.
            raise MappingError(source, f"only local $ref is supported, not {reference!r}")
        for child in node.values():
            _check_formats(child, source)
    elif isinstance(node, list):
        for child in node:
            _check_formats(child, source)


def _compile(source: str, schema: dict[str, Any]) -> jsonschema_rs.Validator:
    try:
        # The contracts' own format predicates replace the validator's built-in ones
        # (an e-mail, a date-time with 7 fractional digits, as the legacy APIs read them).
        return jsonschema_rs.validator_for(schema, formats=dict(FORMATS), validate_formats=True)
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as exc:
        reason = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise MappingError(source, f"invalid JSON Schema: {reason}") from exc


def load_schema(path: Path, *, root: Path) -> CompiledSchema:
    source = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        schema = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise MappingError(source, f"cannot read schema: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise MappingError(source, f"not valid JSON: {exc}") from exc
    if not isinstance(schema, dict):
        raise MappingError(source, "a schema must be a JSON object")
    _check_formats(schema, source)
    return CompiledSchema(source, schema, _compile(source, schema))
