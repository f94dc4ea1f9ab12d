"""Case-insensitive binding of legacy request bodies, as ASP.NET did it.

The legacy backends bound ``Document``, ``document`` and ``DOCUMENT`` to the same
property and ignored members they did not know. The binder is built from the
legacy request schema once, and rewrites a decoded body to the schema's canonical
names, dropping unknown members, before validation and mapping see it. When two
members differ only in case, the later one wins, as in System.Text.Json.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy.mapping.schemas import CompiledSchema

__all__ = ["Binder", "compile_binder"]

Binder = Callable[[Any], Any]


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
                bound[name] = child(item)
        return bound

    return bind_object


def _array_binder(item_binder: Binder) -> Binder:
    def bind_array(value: Any) -> Any:
        return [item_binder(item) for item in value] if isinstance(value, list) else value

    return bind_array


def _build(schema: CompiledSchema, node: dict[str, Any], depth: int) -> Binder:
    if depth > 16:
        return _identity
    node = schema.deref(node)
    properties: dict[str, dict[str, Any]] = {}
    items: dict[str, Any] | None = None
    for branch in schema.branches(node):
        properties.update(branch.get("properties", {}))
        if isinstance(branch.get("items"), dict):
            items = branch["items"]
    if properties:
        fields = {
            name.lower(): (name, _build(schema, child, depth + 1)) for name, child in properties.items()
        }
        return _object_binder(fields)
    if items is not None:
        return _array_binder(_build(schema, items, depth + 1))
    return _identity


def compile_binder(schema: CompiledSchema) -> Binder:
    return _build(schema, schema.schema, 0)
