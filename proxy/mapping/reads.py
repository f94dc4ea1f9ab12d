"""Checked reads: a getter that holds the upstream to its contract on the path it reads.

A response mapping reads a handful of PDT's fields; PDT's answer carries many more.
Rather than validate the whole answer and then walk it again, each read is compiled
(once, at load) into a getter that checks, as it walks, only what that read relies
on: every object it steps into is of a type the contract allows there, a field the
contract requires is present, and the value it returns matches the contract's
schema for it. What PDT adds or omits elsewhere is not looked at.

A broken read raises ``ReadRefused`` naming the path, never the value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from proxy.mapping.paths import MISSING, Path, format_path
from proxy.mapping.schemas import CompiledSchema

__all__ = ["ReadRefused", "compile_checked_getter"]


class ReadRefused(Exception):
    """The upstream's document breaks its contract on a path a rule reads."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


_PYTHON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int, float),
}
# Keywords that never refuse a value: annotations and the contracts' own notes.
_ANNOTATIONS: Final = frozenset({"title", "description", "examples", "default", "$comment"})


def _allowed_types(node: dict[str, Any]) -> frozenset[str] | None:
    """The JSON types a schema node admits by its ``type`` keyword, None when it says nothing."""
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(kind)
    return None


def _is_type(value: Any, kinds: frozenset[str]) -> bool:
    # bool is an int in Python and never a JSON number; 2.0 is a JSON integer.
    for kind in kinds:
        if kind in ("number", "integer") and isinstance(value, bool):
            continue
        if isinstance(value, _PYTHON_TYPES.get(kind, ())):
            if kind == "integer" and isinstance(value, float) and not value.is_integer():
                continue
            return True
    return False


def _required_names(schema: CompiledSchema, node: dict[str, Any]) -> frozenset[str]:
    """Names ``node`` requires whatever else holds: its own ``required`` and its allOf members'.

    A ``required`` inside a oneOf/anyOf branch or a then/else holds only for some
    documents, so it is not counted.
    """
    node = schema.deref(node)
    names = {name for name in node.get("required", ()) if isinstance(name, str)}
    for member in node.get("allOf", ()):
        if isinstance(member, dict):
            names |= _required_names(schema, member)
    return frozenset(names)


def _value_check(schema: CompiledSchema, node: dict[str, Any]) -> Callable[[Any], bool] | None:
    """The cheapest predicate equal to validating a value against ``node``; None if it admits all."""
    constraints = {
        key for key in node if key not in _ANNOTATIONS and not key.startswith("x-") and key != "$schema"
    }
    if not constraints:
        return None
    kinds = _allowed_types(node)
    if constraints == {"type"} and kinds is not None:
        return lambda value: _is_type(value, kinds)
    return schema.subschema_validator(node).is_valid


_Walk = tuple[tuple[Any, bool, frozenset[str] | None], ...]


def _walk_plan(schema: CompiledSchema, base: Path, path: Path) -> _Walk:
    """Per step of ``path``: the step, whether its field is required, the types its parent may have."""
    steps: list[tuple[Any, bool, frozenset[str] | None]] = []
    for depth, step in enumerate(path):
        parent = schema.resolve((*base, *path[:depth])) if (base or depth) else schema.schema
        if parent is None:
            raise ValueError(f"{schema.source} has no field {format_path((*base, *path[:depth]))!r}")
        parent = schema.deref(parent)
        required = isinstance(step, str) and step in _required_names(schema, parent)
        steps.append((step, required, _allowed_types(parent)))
    return tuple(steps)


def compile_checked_getter(
    schema: CompiledSchema, base: Path, path: Path, *, check_value: bool
) -> Callable[[Any], Any]:
    """A getter for ``path`` (below ``base``) in ``schema``-shaped documents, checking as it reads.

    Returns the value, or ``MISSING`` when an optional step is absent or null, and
    raises ``ReadRefused`` when the document breaks the contract on the way. With
    ``check_value=False`` the value itself is returned unchecked (a list an ``each``
    rule walks item by item, each item's reads checked on their own).
    """
    walk = _walk_plan(schema, base, path)
    leaf = schema.resolve((*base, *path))
    if leaf is None:
        raise ValueError(f"{schema.source} has no field {format_path((*base, *path))!r}")
    check = _value_check(schema, leaf) if check_value else None
    where = format_path(path)

    def get(value: Any) -> Any:
        for step, required, kinds in walk:
            if kinds is not None and not _is_type(value, kinds):
                raise ReadRefused(where, "a value on the path is not of the contract's type")
            if value is None:
                # A null object (where the contract allows one) has no fields: what
                # follows is absent, as under a missing one.
                return MISSING
            if isinstance(step, int):
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return MISSING
                value = value[step]
            else:
                if not isinstance(value, dict):
                    return MISSING
                value = value.get(step, MISSING)
                if value is MISSING:
                    if required:
                        raise ReadRefused(where, "a field the contract requires is absent")
                    return MISSING
        if check is not None and not check(value):
            raise ReadRefused(where, "the value does not match the contract")
        return value

    return get
