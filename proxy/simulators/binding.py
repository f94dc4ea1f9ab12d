"""Request binding as PDT's ASP.NET Core does it with System.Text.Json's web defaults.

PDT is an ASP.NET Core API; its JSON input formatter uses ``JsonSerializerDefaults.Web``:
member names match case-insensitively (``PropertyNameCaseInsensitive``), members the
model does not declare are skipped, and numbers may arrive as JSON strings
(``JsonNumberHandling.AllowReadingFromString``). ``compile_binder`` turns a PDT request
schema into a pure function doing the same before validation: it renames members to
the schema's spelling, drops unknown ones and reads numeric strings as numbers. What
it cannot bind (``"abc"`` for an integer, an object for a string) is left as it is, so
validation refuses it and names the field.

``simulator_schema`` strips what the schemas mark ``x-reconstructed``: constraints the
proxy holds its own requests to, but that PDT does not document, so the simulator
must not refuse real input with them (a zip code with a dash, a date with an offset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["RECONSTRUCTED", "Binder", "compile_binder", "simulator_schema"]

Binder = Callable[[Any], Any]
RECONSTRUCTED: Final = "x-reconstructed"
# JSON's number grammar: what AllowReadingFromString accepts inside the quotes
# (no surrounding blanks, no leading '+', no named literals like "NaN").
_INTEGER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def simulator_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` without its ``x-reconstructed`` constraints, unknown members allowed.

    ``additionalProperties: false`` goes too: the binder has already dropped every
    member the schema does not declare, as ASP.NET does, so nothing is left to refuse.
    """
    copied: dict[str, Any] = {}
    dropped = set(schema.get(RECONSTRUCTED, ()))
    for key, value in schema.items():
        if key in dropped or key == RECONSTRUCTED or (key == "additionalProperties" and value is False):
            continue
        copied[key] = _strip(value)
    return copied


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return simulator_schema(value)
    if isinstance(value, list):
        return [_strip(item) for item in value]
    return value


def compile_binder(schema: Mapping[str, Any]) -> Binder:
    """The binding function of one schema node, built once (bodies are bound per request)."""
    types = _types(schema)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        return _object_binder(properties)
    items = schema.get("items")
    if "array" in types and isinstance(items, dict):
        return _array_binder(compile_binder(items))
    if "integer" in types:
        return _number_binder(_INTEGER, int)
    if "number" in types:
        return _number_binder(_NUMBER, _int_or_float)
    return _unchanged


def _types(schema: Mapping[str, Any]) -> frozenset[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(item for item in declared if isinstance(item, str))
    return frozenset()


def _object_binder(properties: Mapping[str, Any]) -> Binder:
    # Lower-cased, as ASP.NET folds member names (ordinal, case-insensitive).
    members = {
        name.lower(): (name, compile_binder(child) if isinstance(child, dict) else _unchanged)
        for name, child in properties.items()
    }

    def bind(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        bound: dict[str, Any] = {}
        for name, member in value.items():
            known = members.get(name.lower())
            if known is None:
                continue  # Not in the model: skipped, never an error.
            canonical, child = known
            # Two spellings of one member: the later one wins, as in System.Text.Json.
            bound[canonical] = child(member)
        return bound

    return bind


def _array_binder(item: Binder) -> Binder:
    def bind(value: Any) -> Any:
        return [item(element) for element in value] if isinstance(value, list) else value

    return bind


def _number_binder(grammar: re.Pattern[str], convert: Callable[[str], Any]) -> Binder:
    def bind(value: Any) -> Any:
        if isinstance(value, str) and grammar.fullmatch(value):
            return convert(value)
        return value

    return bind


def _int_or_float(text: str) -> int | float:
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _unchanged(value: Any) -> Any:
    return value
