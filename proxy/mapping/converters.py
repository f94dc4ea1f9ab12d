"""Named Python converters for the irregular DE-PARA rule (``convert: <name>``).

Most rules are a path and a chain of transforms. A rule whose logic fits no
transform gets a small pure function here, registered under a name, instead of a
new YAML keyword: the mapping stays data (it names the converter), the odd logic
stays typed and testable, and the loader refuses a name nobody registered.

A converter takes the value the rule's ``from`` reads and returns the value to
write; ``None`` means "no value" (the rule's ``default`` applies). It raises
``ValueError`` for a value it cannot convert, which the rule reports like a
failed transform. The rule's ``transform``, if any, runs on the converter's
result, so a converter composes with code tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy.mapping.paths import MISSING
from proxy.mapping.transforms import Trace, Transform, TransformError

__all__ = ["Converter", "converter", "converter_names", "get_converter", "with_converter"]

Converter = Callable[[Any], Any]

_REGISTRY: dict[str, Converter] = {}


def converter(name: str) -> Callable[[Converter], Converter]:
    """Register the decorated function as ``convert: <name>``; a name is registered once."""

    def register(function: Converter) -> Converter:
        if name in _REGISTRY:
            raise ValueError(f"converter {name!r} is already registered")
        _REGISTRY[name] = function
        return function

    return register


def converter_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def get_converter(name: str) -> Converter:
    """The converter registered as ``name``; ``KeyError`` naming the known ones otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown converter {name!r} (known: {', '.join(converter_names())})") from None


def with_converter(name: str | None, then: Transform | None) -> Transform | None:
    """The rule's transform with converter ``name`` run first (``then`` unchanged without one)."""
    if name is None:
        return then
    function = get_converter(name)

    def convert(value: Any, trace: Trace) -> Any:
        try:
            converted = function(value)
        except ValueError as exc:
            raise TransformError(str(exc)) from None
        if converted is None:
            return MISSING
        return converted if then is None else then(converted, trace)

    return convert


# --- the shipped converters --------------------------------------------------------------------


@converter("relation_key")
def relation_key(value: Any) -> str:
    """PDT's ``relatedTo`` list (in no guaranteed order) as one key: sorted, joined by ``+``.

    Both legacy rating tables are keyed by the pair of related data items, whatever
    order PDT lists them in (``["Email", "Document"]`` is ``Document+Email``).
    """
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of strings")
    return "+".join(sorted(value))
