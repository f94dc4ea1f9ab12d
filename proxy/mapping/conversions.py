"""The value conversions of the legacy model binders, one pure function per rule.

A legacy client's JSON value whose type differs from the property's declared type
was converted, or refused, by the backend's JSON reader. Each conversion below
reproduces one documented rule of one reader; ``PROFILES`` names which reader
makes which conversions (``mappings/README.md``, "Binding profiles", gives the
sources). A function returns the converted value, ``None`` for the JSON null the
reader produced (Json.NET reads an empty string as null), or raises
``ValueError`` when the reader would have refused the value.

Only the conversion from the value's JSON type to a declared type is here; the
walk over a body and the choice among declared types live in ``binding.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

__all__ = ["PROFILES", "Conversion", "JsonType", "json_type_of"]

JsonType = Literal["string", "integer", "number", "boolean", "null", "object", "array"]

_JSON_TYPES: Final[Mapping[type, JsonType]] = MappingProxyType(
    {
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
        dict: "object",
        list: "array",
    }
)


def json_type_of(value: Any) -> JsonType:
    """The JSON type a decoded value was sent as (a float means the literal had a
    fraction or an exponent: orjson reads ``1`` as int and ``1.0`` as float)."""
    return _JSON_TYPES.get(type(value), "object")


@dataclass(frozen=True, slots=True)
class Conversion:
    source: JsonType
    target: JsonType
    convert: Callable[[Any], Any]


# .NET's NumberStyles "white" characters: U+0009-U+000D and U+0020, nothing else
# (no NBSP): Python's str.strip() would accept more than the reader did.
_NET_WHITE = "\t\n\v\f\r "

# Json.NET 13 ``ReadInt32String``: int.TryParse(s, NumberStyles.Integer, invariant):
# optional surrounding white space, an optional leading sign, ASCII digits.
_NET_INTEGER = re.compile(r"[\t\n\v\f\r ]*[+-]?[0-9]+[\t\n\v\f\r ]*")
# Json.NET 13 ``ReadDecimalString``/``ReadDoubleString``: NumberStyles.Number (or
# Float|AllowThousands) with the invariant culture, then its own parser for an
# exponent: white space, a leading sign, digits with ',' group separators, a
# '.' fraction, an exponent. The union of the decimal and double rules, as the
# CLR type behind a reconstructed "number" is not known.
_NET_NUMBER = re.compile(
    r"[\t\n\v\f\r ]*[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[\t\n\v\f\r ]*"
)
# System.Text.Json ``AllowReadingFromString``: Utf8Parser over the whole string,
# no white space or other trivia; a sign, digits, for floating types a fraction
# and an exponent. Named literals (NaN, Infinity) need AllowNamedFloatingPointLiterals,
# which the web defaults do not set.
_STJ_INTEGER = re.compile(r"[+-]?[0-9]+")
_STJ_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _number(text: str) -> int | float:
    cleaned = text.strip(_NET_WHITE).replace(",", "")
    if any(mark in cleaned for mark in ".eE"):
        return float(cleaned)
    return int(cleaned)


def _json_net_string_to_integer(value: str) -> int | None:
    if value == "":
        return None  # IsNullOrEmpty: Json.NET reads null, refused below if not nullable
    if _NET_INTEGER.fullmatch(value) is None:
        raise ValueError("not an integer")
    return int(value.strip(_NET_WHITE))


def _json_net_string_to_number(value: str) -> int | float | None:
    if value == "":
        return None
    if _NET_NUMBER.fullmatch(value) is None:
        raise ValueError("not a number")
    return _number(value)


def _json_net_string_to_boolean(value: str) -> bool | None:
    # ReadBooleanString: bool.TryParse, which ignores case and surrounding white space.
    if value == "":
        return None
    word = value.strip(_NET_WHITE + "\0").lower()
    if word == "true":
        return True
    if word == "false":
        return False
    raise ValueError("not a boolean")


def _json_net_number_to_string(value: int | float) -> str:
    # ReadAsString keeps the number's literal text. orjson has parsed it already,
    # so a fraction is rendered back in its shortest form ("1080.60" -> "1080.6").
    return str(value) if isinstance(value, int) else repr(value)


def _json_net_boolean_to_string(value: bool) -> str:
    return "true" if value else "false"


def _json_net_number_to_boolean(value: int | float) -> bool:
    # ReadAsBoolean on a number token: Convert.ToBoolean, any non-zero is true.
    return value != 0


def _stj_string_to_integer(value: str) -> int:
    if _STJ_INTEGER.fullmatch(value) is None:
        raise ValueError("not an integer")
    return int(value)


def _stj_string_to_number(value: str) -> int | float:
    if _STJ_NUMBER.fullmatch(value) is None:
        raise ValueError("not a number")
    return _number(value)


PROFILES: Final[Mapping[str, Mapping[str, Conversion]]] = MappingProxyType(
    {
        # ASP.NET Web API 2 + Json.NET (JsonTextReader.ReadAsInt32/ReadAsDecimal/
        # ReadAsBoolean/ReadAsString, chosen by the property's CLR type).
        "json-net": MappingProxyType(
            {
                "string_to_integer": Conversion("string", "integer", _json_net_string_to_integer),
                "string_to_number": Conversion("string", "number", _json_net_string_to_number),
                "string_to_boolean": Conversion("string", "boolean", _json_net_string_to_boolean),
                "number_to_string": Conversion("number", "string", _json_net_number_to_string),
                "boolean_to_string": Conversion("boolean", "string", _json_net_boolean_to_string),
                "number_to_boolean": Conversion("number", "boolean", _json_net_number_to_boolean),
            }
        ),
        # ASP.NET Core + System.Text.Json, JsonSerializerDefaults.Web: numbers may be
        # read from strings (JsonNumberHandling.AllowReadingFromString); nothing else.
        "system-text-json": MappingProxyType(
            {
                "string_to_integer": Conversion("string", "integer", _stj_string_to_integer),
                "string_to_number": Conversion("string", "number", _stj_string_to_number),
            }
        ),
    }
)
