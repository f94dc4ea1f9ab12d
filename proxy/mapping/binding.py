"""Binding legacy request bodies as the legacy backends' model binders did.

One layer, pure, run on the decoded body before the contract schema validates it:

- **names**: ``Document``, ``document`` and ``DOCUMENT`` bind to the same property
  and members the contract does not know are dropped (ASP.NET ignored them). When
  two members differ only in case, the later one wins, as in System.Text.Json.
- **values**: a value whose JSON type is not one the contract declares for its
  field is converted by the product's binding profile (``conversions.PROFILES``,
  chosen in ``product.yaml``): ``"12"`` for an integer under Json.NET, ``12`` for
  a string, ``"true"`` for a boolean. A value the reader would have refused
  (``"abc"`` or ``1.0`` for an integer, an object for a string) raises
  ``BindingRefused`` naming the field, which the gate answers as the family's
  type error. A null is left for the schema: ASP.NET bound it and let
  ``[Required]`` speak.

The contract schemas keep describing the declared types; nothing the legacy
binder refused becomes valid here. Where a reconstructed contract declares
several types for one field (a CLR type the evidence does not settle), each is
tried in the order the schema lists them.

A well-typed body pays one dict lookup and one ``type() in`` test per field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from proxy.mapping.binding_profile import STRICT, BindingProfile
from proxy.mapping.conversions import Conversion
from proxy.mapping.schemas import CompiledSchema

__all__ = ["Binder", "BindingRefused", "compile_binder"]

Binder = Callable[[Any], Any]

_SCALARS: Final = ("string", "integer", "number", "boolean")
# The Python types a decoded value of each declared JSON type may have.
_PYTHON_TYPES: Final[Mapping[str, frozenset[type]]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
    "object": frozenset({dict}),
    "array": frozenset({list}),
}
_NONE: Final = type(None)
_SOURCE_OF: Final[Mapping[type, str]] = {str: "string", bool: "boolean", int: "number", float: "number"}


class BindingRefused(Exception):
    """The legacy binder would have refused the value at ``path`` (no value in the message)."""

    def __init__(self) -> None:
        super().__init__("value refused by the binding profile")
        self.path: list[str | int] = []

    @property
    def field(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "$"


def _identity(value: Any) -> Any:
    return value


def _object_binder(fields: dict[str, tuple[str, Binder]]) -> Binder:
    def bind_object(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        bound: dict[str, Any] = {}
        for key, item in value.items():
            target = fields.get(key.lower())
            if target is not None:
                name, child = target
                try:
                    bound[name] = child(item)
                except BindingRefused as refused:
                    refused.path.insert(0, name)
                    raise
        return bound

    return bind_object


def _array_binder(item_binder: Binder) -> Binder:
    def bind_array(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        try:
            return [item_binder(item) for item in value]
        except BindingRefused:
            # Off the hot path: find the first refused item again, to name its index.
            for index, item in enumerate(value):
                try:
                    item_binder(item)
                except BindingRefused as refused:
                    refused.path.insert(0, index)
                    raise refused from None
            raise

    return bind_array


def _scalar_binder(declared: tuple[str, ...], conversions: tuple[Conversion, ...]) -> Binder:
    accepted = frozenset().union(*(_PYTHON_TYPES[kind] for kind in declared))
    nullable = "null" in declared
    by_source: dict[str, tuple[Conversion, ...]] = {}
    for kind in declared:
        for conversion in conversions:
            if conversion.target == kind:
                by_source[conversion.source] = (*by_source.get(conversion.source, ()), conversion)

    def bind_scalar(value: Any) -> Any:
        kind = type(value)
        if kind in accepted:
            return value
        candidates = by_source.get(_SOURCE_OF.get(kind, ""), ())
        for conversion in candidates:
            try:
                converted = conversion.convert(value)
            except ValueError:
                continue
            if converted is not None or nullable:
                return converted
        if kind is _NONE:
            # A null is the contract's to judge: ASP.NET bound it to a reference type
            # and let [Required] speak, so the schema's message is the family's.
            return value
        raise BindingRefused()

    return bind_scalar


def _declared_types(schema: CompiledSchema, nodes: list[dict[str, Any]]) -> tuple[str, ...]:
    """The JSON types the nodes declare, in the order written, ``null`` included."""
    found: list[str] = []
    for node in nodes:
        for branch in schema.branches(node):
            kinds = branch.get("type", ())
            for kind in [kinds] if isinstance(kinds, str) else kinds:
                if kind not in found:
                    found.append(kind)
    return tuple(found)


def _build(
    schema: CompiledSchema, nodes: list[dict[str, Any]], conversions: tuple[Conversion, ...], depth: int
) -> Binder:
    if depth > 16:
        return _identity
    properties: dict[str, list[dict[str, Any]]] = {}
    items: list[dict[str, Any]] = []
    for node in nodes:
        for branch in schema.branches(node):
            for name, child in branch.get("properties", {}).items():
                properties.setdefault(name, []).append(child)
            if isinstance(branch.get("items"), dict):
                items.append(branch["items"])
    if properties:
        fields = {
            name.lower(): (name, _build(schema, children, conversions, depth + 1))
            for name, children in properties.items()
        }
        return _object_binder(fields)
    if items:
        return _array_binder(_build(schema, items, conversions, depth + 1))
    declared = _declared_types(schema, nodes)
    if not declared or any(kind not in _SCALARS and kind != "null" for kind in declared):
        # No declared type, or an object/array one with no properties or items to
        # walk (a dictionary): whatever the JSON holds is the contract's to judge.
        return _identity
    return _scalar_binder(declared, conversions)


def compile_binder(schema: CompiledSchema, profile: BindingProfile = STRICT) -> Binder:
    return _build(schema, [schema.schema], profile.conversions, 0)
