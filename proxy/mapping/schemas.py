"""Contract schemas: loaded once, compiled twice.

``CompiledSchema.is_valid`` runs fastjsonschema's generated code, the cheap check
every request pays. Only when it fails does ``violations`` run jsonschema to list
every broken field, as ASP.NET reports them: the cost lands on bad requests only.
Schemas are local files and may use local ``$ref`` (``#/definitions/...``) only.

The fast validator is compiled from a copy of the schema with its local ``$ref``
replaced by what they point to (``_inline_refs``): fastjsonschema turns each
``$ref`` into a function call that formats the item's name (``.format(**locals())``)
for every list item it checks, eagerly, though the name is only used in an error.
Inlined, PDT's all-results view validates in less than half the time (measured:
50 -> 23 us per Data Trust v1 pack answer). Draft-07 ignores a ``$ref``'s sibling
keywords, in both validators, so the substitution changes nothing they accept.

The same copy then has its type-disjoint ``oneOf``/``anyOf`` merged into one schema
(``_merge_typed_branches``): fastjsonschema checks each branch by raising and
catching an exception, so ``Phone.AreaCode: oneOf [string+pattern, integer+range]``
cost an exception per valid request. When each branch is one JSON type plus
keywords that apply to that type alone (a pattern constrains only strings, a
minimum only numbers) and no two branches share a type, the merged
``{"type": [...], ...}`` accepts exactly the same instances.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
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


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    for name, predicate in FORMATS.items():
        checker.checks(name)(predicate)
    return checker


_FORMAT_CHECKER = _format_checker()


@dataclass(frozen=True)
class CompiledSchema:
    source: str
    schema: dict[str, Any] = field(repr=False)
    _fast: Callable[[Any], Any] = field(repr=False)
    _detailed: jsonschema.protocols.Validator = field(repr=False)

    def is_valid(self, document: Any) -> bool:
        try:
            self._fast(document)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def violations(self, document: Any) -> list[SchemaViolation]:
        found: list[SchemaViolation] = []
        seen: set[tuple[str, str, str]] = set()
        for error in self._detailed.iter_errors(document):
            for item in _violation(error):
                # jsonschema reports each missing required name as its own error, and
                # _violation lists every missing name for each: keep one of each.
                key = (item.field, item.keyword, repr(item.params))
                if key not in seen:
                    seen.add(key)
                    found.append(item)
        # The validators share one format registry, so an empty list after a failed
        # fast check would be a bug in a validator; report it on the whole body.
        return found or [SchemaViolation("$", "invalid", {})]

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


def _dotted(parts: Iterator[Any] | Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _branch_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For a failed oneOf/anyOf, the errors of the branch the value was meant for.

    ``Phone`` is ``null`` or an object: a phone object missing ``Number`` should
    report ``Phone.Number is required``, not "Phone is invalid". The branch whose
    only complaint is a type mismatch at its root was not the one meant.
    """
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    for errors in branches.values():
        if not all(sub.validator == "type" and not sub.relative_path for sub in errors):
            return errors
    return []


def _violation(error: jsonschema.ValidationError) -> list[SchemaViolation]:
    if error.validator in ("oneOf", "anyOf"):
        meant = _branch_errors(error)
        if meant:
            return [item for sub in meant for item in _violation(sub)]
    base = list(error.absolute_path)
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        missing = [name for name in required if name not in error.instance]
        return [SchemaViolation(_dotted([*base, name]), "required", {}) for name in missing]
    params: dict[str, Any] = {}
    if error.validator in ("maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems"):
        params["limit"] = error.validator_value
    elif error.validator == "format":
        params["format"] = error.validator_value
    elif error.validator == "type":
        params["type"] = error.validator_value
    elif error.validator == "enum":
        params["allowed"] = error.validator_value
    return [SchemaViolation(_dotted(base) or "$", str(error.validator), params)]


def _check_formats(node: Any, source: str) -> None:
    if isinstance(node, dict):
        name = node.get("format")
        if isinstance(name, str) and name not in FORMATS:
            raise MappingError(source, f"format {name!r} is not one of {sorted(FORMATS)}")
        reference = node.get("$ref")
        if isinstance(reference, str) and not reference.startswith("#"):
            # fastjsonschema would fetch it (urlopen) while compiling.
            raise MappingError(source, f"only local $ref is supported, not {reference!r}")
        for child in node.values():
            _check_formats(child, source)
    elif isinstance(node, list):
        for child in node:
            _check_formats(child, source)


# fastjsonschema reads an unescaped ``$`` in a pattern as ``\Z`` (``^CPF$`` does not
# match ``"CPF\n"``); the detailed validator must agree, or ``violations`` finds
# nothing wrong with a body ``is_valid`` refused.
_DOLLAR = re.compile(r"(?<!\\)\$")


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not re.search(_DOLLAR.sub(r"\\Z", pattern), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# Past this growth the inlined copy is not worth its compile time and memory: keep the refs.
_INLINE_GROWTH_LIMIT = 16
_DRAFTS_IGNORING_REF_SIBLINGS = frozenset(
    {
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-07/schema#",
    }
)


# Keywords whose values are instance data, not schemas: a ``{"$ref": ...}`` there is data.
# (A property that happens to be named like one is left uninlined: still correct.)
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


def _has_scope_change(node: Any, *, top: bool = True) -> bool:
    """Whether a subschema sets ``$id``/``id``: refs inside it would resolve elsewhere."""
    if isinstance(node, dict):
        if not top and ("$id" in node or ("id" in node and isinstance(node["id"], str))):
            return True
        return any(_has_scope_change(child, top=False) for child in node.values())
    if isinstance(node, list):
        return any(_has_scope_change(child, top=False) for child in node)
    return False


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` with every local, non-recursive ``$ref`` replaced by its target.

    Only plain ``#/a/b`` pointers are followed (no ``~`` or ``%`` escapes); a ref met
    again while its own target is being inlined (recursion) stays a ``$ref``, which
    still resolves: the root's ``definitions`` are kept. Any doubt (another draft, a
    nested ``$id``, a pointer that does not resolve, runaway growth) returns the
    schema unchanged, compiled as it was before.
    """
    # Without ``$schema`` fastjsonschema compiles draft-07, which ignores ref siblings too.
    draft = schema.get("$schema", "http://json-schema.org/draft-07/schema#")
    if draft not in _DRAFTS_IGNORING_REF_SIBLINGS or _has_scope_change(schema):
        return schema

    def target_of(reference: str) -> Any:
        node: Any = schema
        for part in reference[2:].split("/"):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise LookupError(reference)
        return node

    def inline(node: Any, expanding: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if (
                isinstance(reference, str)
                and reference.startswith("#/")
                and "~" not in reference
                and "%" not in reference
                and reference not in expanding
            ):
                return inline(target_of(reference), (*expanding, reference))
            return {
                key: child if key in _DATA_KEYWORDS else inline(child, expanding)
                for key, child in node.items()
            }
        if isinstance(node, list):
            return [inline(child, expanding) for child in node]
        return node

    try:
        inlined: dict[str, Any] = inline(schema, ())
    except LookupError:
        return schema
    if len(orjson.dumps(inlined)) > _INLINE_GROWTH_LIMIT * len(orjson.dumps(schema)):
        return schema
    return inlined


# Keywords that constrain only instances of one JSON type (draft-04 to 2020-12 agree):
# any other instance passes them. integer and number share theirs, so a pair of
# branches typed integer and number is never merged.
_TYPE_ONLY_KEYWORDS: dict[str, frozenset[str]] = {
    "null": frozenset(),
    "boolean": frozenset(),
    "string": frozenset({"pattern", "minLength", "maxLength"}),
    "integer": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "number": frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}),
    "object": frozenset(
        {
            "properties",
            "required",
            "additionalProperties",
            "patternProperties",
            "minProperties",
            "maxProperties",
        }
    ),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems"}),
}
_ANNOTATIONS = frozenset({"title", "description", "examples", "default", "$comment"})
# Keywords whose value maps names to subschemas (the names are data, not keywords).
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "definitions", "$defs"})


def _merged_branches(branches: Any) -> dict[str, Any] | None:
    """One schema equal to ``oneOf``/``anyOf`` over ``branches``, or None when they
    are not each a distinct single type with keywords of that type only."""
    if not isinstance(branches, list) or len(branches) < 2:
        return None
    types: list[str] = []
    merged: dict[str, Any] = {}
    for branch in branches:
        if not isinstance(branch, dict):
            return None
        kind = branch.get("type")
        if not isinstance(kind, str) or kind not in _TYPE_ONLY_KEYWORDS or kind in types:
            return None
        keywords = set(branch) - _ANNOTATIONS - {"type"}
        if not keywords <= _TYPE_ONLY_KEYWORDS[kind]:
            return None
        types.append(kind)
        merged.update({key: branch[key] for key in keywords})
    if {"integer", "number"} <= set(types):
        return None
    return {"type": types, **merged}


def _merge_typed_branches(node: Any) -> Any:
    """A copy of ``node`` with every type-disjoint ``oneOf``/``anyOf`` merged (see the module docstring)."""
    if isinstance(node, list):
        return [_merge_typed_branches(child) for child in node]
    if not isinstance(node, dict):
        return node
    copied: dict[str, Any] = {}
    for key, child in node.items():
        if key in _DATA_KEYWORDS or key in ("required", "type"):
            copied[key] = child
        elif key in _NAMED_SCHEMAS and isinstance(child, dict):
            copied[key] = {name: _merge_typed_branches(schema) for name, schema in child.items()}
        else:
            copied[key] = _merge_typed_branches(child)
    for keyword in ("oneOf", "anyOf"):
        if keyword not in copied:
            continue
        merged = _merged_branches(copied[keyword])
        # Keywords of one schema all apply at once, so the merged ones join the node's
        # own, unless the node already has one of them (it would be overwritten).
        rest = set(copied) - {keyword}
        if merged is not None and not rest & set(merged):
            del copied[keyword]
            copied.update(merged)
    return copied


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
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        # (``detailed_exceptions=False`` would skip building messages no one reads, but
        # fastjsonschema 2.22 fails to generate code with it for some keywords.)
        fast = fastjsonschema.compile(_merge_typed_branches(_inline_refs(schema)), formats=dict(FORMATS))
    except (jsonschema.SchemaError, fastjsonschema.JsonSchemaDefinitionException) as exc:
        raise MappingError(source, f"invalid JSON Schema: {getattr(exc, 'message', exc)}") from exc
    detailed_class = jsonschema.validators.extend(validator_class, {"pattern": _pattern})  # type: ignore[no-untyped-call]
    detailed = detailed_class(schema, format_checker=_FORMAT_CHECKER)
    return CompiledSchema(source, schema, fast, detailed)
