"""Hypothesis strategies built from a schema (kept out of conftest: importing
hypothesis-jsonschema touches Hypothesis' storage, which it forbids at plugin load)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from hypothesis_jsonschema import from_schema

from .support import make_cnpj, make_cpf

# -------------------------------------------
#
# hypothesis-jsonschema 0.23.1 cannot draw objects under the pinned Hypothesis (its
# from_object_schema calls the removed ``many.more()``), so objects, arrays of objects
# and $ref/oneOf between them are assembled here, and every leaf (strings with
# patterns and formats, numbers, enums, arrays of scalars) is drawn by from_schema.

_ANNOTATIONS = frozenset({"title", "description", "$schema", "definitions", "$id"})


def _deref(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = root
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part]
        node = target
    return node


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _structural(node: dict[str, Any], root: dict[str, Any]) -> bool:
    node = _deref(node, root)
    if "properties" in node or "object" in _types(node) or "oneOf" in node or "anyOf" in node:
        return True
    items = node.get("items")
    return "array" in _types(node) and isinstance(items, dict) and _structural(items, root)


def schema_strategy(
    node: dict[str, Any],
    root: dict[str, Any] | None = None,
    *,
    overrides: Mapping[str, SearchStrategy[Any]] | None = None,
    max_items: int = 3,
    path: str = "",
) -> SearchStrategy[Any]:
    """Documents valid under ``node`` (``overrides``: dotted path, ``[]`` for items → strategy)."""
    root = node if root is None else root
    overrides = overrides or {}
    if path in overrides:
        return overrides[path]
    node = _deref(node, root)

    def child(sub: dict[str, Any], sub_path: str) -> SearchStrategy[Any]:
        return schema_strategy(sub, root, overrides=overrides, max_items=max_items, path=sub_path)

    branches = node.get("oneOf") or node.get("anyOf")
    if isinstance(branches, list) and any(_structural(branch, root) for branch in branches):
        return st.one_of([child(branch, path) for branch in branches])
    types = _types(node)
    if "properties" in node or "object" in types:
        properties: dict[str, dict[str, Any]] = node.get("properties", {})
        required = [name for name in node.get("required", ()) if name in properties]
        prefix = f"{path}." if path else ""
        built = st.fixed_dictionaries(
            {name: child(properties[name], prefix + name) for name in required},
            optional={
                name: child(sub, prefix + name) for name, sub in properties.items() if name not in required
            },
        )
        return st.one_of(st.none(), built) if "null" in types else built
    items = node.get("items")
    if "array" in types and isinstance(items, dict):
        low = int(node.get("minItems", 0))
        high = max(low, min(int(node.get("maxItems", max_items)), max_items))
        return st.lists(child(items, f"{path}[]"), min_size=low, max_size=high)
    leaf = {key: value for key, value in node.items() if key not in _ANNOTATIONS}
    return from_schema(leaf, custom_formats=_CUSTOM_FORMATS)


# Never all zeros: stdnum (and so the contract) refuses 000.000.000-00.
cpf_strategy: SearchStrategy[str] = st.integers(min_value=1, max_value=10**9 - 1).map(
    lambda n: make_cpf(f"{n:09d}")
)
cnpj_strategy: SearchStrategy[str] = st.integers(min_value=1, max_value=10**12 - 1).map(
    lambda n: make_cnpj(f"{n:012d}")
)

_offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@st.composite
def pdt_timestamps(draw: st.DrawFn) -> str:
    """What PDT's createdAt pattern allows and a .NET server writes: offsets, 0-7 fraction digits."""
    moment = draw(st.datetimes(timezones=st.one_of(st.just(UTC), _offsets)))
    text = moment.isoformat()
    if moment.tzinfo is UTC or moment.utcoffset() == timedelta(0):
        text = draw(st.sampled_from([text, text.replace("+00:00", "Z")]))
    if moment.microsecond and draw(st.booleans()):
        date_part, _, rest = text.partition(".")
        text = f"{date_part}.{rest[:6]}{draw(st.integers(0, 9))}{rest[6:]}"
    return text


@st.composite
def local_datetimes(draw: st.DrawFn) -> str:
    """``local-date-time``: a timestamp without offset, 0-7 fraction digits (older ASP.NET)."""
    moment: datetime = draw(st.datetimes())
    digits = draw(st.integers(min_value=0, max_value=7))
    fraction = f"{moment.microsecond:06d}{draw(st.integers(0, 9))}"[:digits]
    return moment.isoformat(timespec="seconds") + (f".{fraction}" if digits else "")


@st.composite
def offset_datetimes(draw: st.DrawFn) -> str:
    """A timestamp with ``Z`` or a whole-minute offset, 0-7 fraction digits."""
    text: str = draw(local_datetimes())
    offset: timezone = draw(st.one_of(st.just(UTC), _offsets))
    suffix = datetime(2000, 1, 1, tzinfo=offset).isoformat()[19:]
    return text + (draw(st.sampled_from(["Z", suffix])) if suffix == "+00:00" else suffix)


# ``date-or-date-time``: what the older v1 family bound into a DateTime.
date_or_datetime_strategy: SearchStrategy[str] = st.one_of(
    st.dates().map(date.isoformat), local_datetimes(), offset_datetimes()
)
_CUSTOM_FORMATS: dict[str, SearchStrategy[str]] = {
    "cpf": cpf_strategy,
    "cnpj": cnpj_strategy,
    "local-date-time": local_datetimes(),
    "date-or-date-time": date_or_datetime_strategy,
}
