"""The vocabulary of value transforms a mapping rule may name.

A rule's ``transform`` is a name (``digits``), a one-key mapping carrying an
argument (``{round: 2}``, ``{table: insights, column: legacy_code}``) or a list of
those applied in order. Each name resolves at compile time to a pure function
``(value, trace) -> value``; ``trace`` only collects unmapped codes so the caller
can count them after the mapping ran. No transform does I/O.

A transform returns ``MISSING`` to say "no value" and ``DROP`` to say "remove the
enclosing list item" (a code table's ``drop`` policy).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from proxy.mapping.paths import MISSING
from proxy.mapping.tables import CodeTable

__all__ = [
    "DROP",
    "TRANSFORMS",
    "Trace",
    "Transform",
    "TransformError",
    "UnmappedCode",
    "compile_transform",
]


class _Drop:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DROP"


DROP: Final = _Drop()


class TransformError(ValueError):
    """A value the transform cannot convert; the caller decides whose fault it is."""


@dataclass(frozen=True, slots=True)
class UnmappedCode:
    table: str
    code: str


@dataclass(slots=True)
class Trace:
    """What one mapping run noticed besides its output: codes no table row reached."""

    unmapped: list[UnmappedCode] = field(default_factory=list)

    def note_unmapped(self, table: str, code: str) -> None:
        entry = UnmappedCode(table, code)
        if entry not in self.unmapped:
            self.unmapped.append(entry)


Transform = Callable[[Any, Trace], Any]
Factory = Callable[[Any, Mapping[str, CodeTable]], Transform]

_NON_DIGITS = re.compile(r"\D")


def _no_argument(name: str, argument: Any) -> None:
    if argument is not None:
        raise ValueError(f"transform {name!r} takes no argument")


def _digits(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("digits", argument)

    def digits(value: Any, trace: Trace) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise TransformError("expected a string or an integer")
        return _NON_DIGITS.sub("", str(value))

    return digits


def _integer(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("integer", argument)

    def integer(value: Any, trace: Trace) -> Any:
        if isinstance(value, bool):
            raise TransformError("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            digits = _NON_DIGITS.sub("", value)
            if digits:
                try:
                    return int(digits)
                except ValueError:
                    # More digits than Python converts (sys.get_int_max_str_digits).
                    raise TransformError("integer too long") from None
        raise TransformError("expected an integer")

    return integer


def _string(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("string", argument)

    def string(value: Any, trace: Trace) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TransformError("expected a scalar")
        if isinstance(value, float) and value.is_integer():
            # JSON's 12.0 is the number 12: "12", as a .NET client's int would print.
            value = int(value)
        try:
            return str(value)
        except ValueError:
            raise TransformError("integer too long") from None

    return string


def _text_case(name: str, method: Callable[[str], str]) -> Factory:
    def factory(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
        _no_argument(name, argument)

        def change_case(value: Any, trace: Trace) -> Any:
            if not isinstance(value, str):
                raise TransformError("expected a string")
            return method(value)

        return change_case

    return factory


def _trim(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("trim", argument)

    def trim(value: Any, trace: Trace) -> Any:
        if not isinstance(value, str):
            raise TransformError("expected a string")
        stripped = value.strip()
        return stripped if stripped else MISSING

    return trim


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TransformError("expected a number")
    return float(value)


def _round(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    if not isinstance(argument, int) or isinstance(argument, bool) or not 0 <= argument <= 6:
        raise ValueError("round takes a number of decimals from 0 to 6")
    places = argument

    def round_value(value: Any, trace: Trace) -> Any:
        rounded = round(_number(value), places)
        return int(rounded) if places == 0 else rounded

    return round_value


def _clamp(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    if (
        not isinstance(argument, list)
        or len(argument) != 2
        or not all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in argument)
        or argument[0] > argument[1]
    ):
        raise ValueError("clamp takes [low, high] with low <= high")
    low, high = float(argument[0]), float(argument[1])

    def clamp(value: Any, trace: Trace) -> Any:
        return min(high, max(low, _number(value)))

    return clamp


_TRUE_WORDS: Final = frozenset({"1", "true", "True", "TRUE"})
_FALSE_WORDS: Final = frozenset({"0", "false", "False", "FALSE"})


def _boolean(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("boolean", argument)

    def boolean(value: Any, trace: Trace) -> Any:
        # bool is an int subclass: test it first so True/False keep their meaning.
        if isinstance(value, bool):
            return value
        # JSON has one number type: 1.0 is the flag 1 (and JSON Schema calls it an integer).
        if isinstance(value, int | float) and value in (0, 1):
            return value == 1
        if isinstance(value, str) and (value in _TRUE_WORDS or value in _FALSE_WORDS):
            return value in _TRUE_WORDS
        raise TransformError("expected a boolean or a 0/1 flag")

    return boolean


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TransformError("expected an ISO-8601 datetime string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise TransformError("expected an ISO-8601 datetime string") from None
    return parsed


def _utc_millis(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    _no_argument("utc_millis", argument)

    def utc_millis(value: Any, trace: Trace) -> Any:
        parsed = _parse_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise TransformError("datetime out of range once in UTC") from None
        # isoformat pads the year to four digits; strftime("%Y") does not on glibc.
        return parsed.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"

    return utc_millis


def _utc_datetime(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    """An ISO datetime in UTC with ``Z``; a value without offset is read in ``argument``'s zone.

    The older v1 family sent local times without offset (FFR's ``OrderDate``); the
    zone they meant is data, declared in the mapping, not an assumption in code.
    """
    if not isinstance(argument, str):
        raise ValueError("utc_datetime takes an IANA time zone name, e.g. America/Sao_Paulo")
    try:
        zone = ZoneInfo(argument)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"utc_datetime: unknown time zone {argument!r}") from None

    def utc_datetime(value: Any, trace: Trace) -> Any:
        parsed = _parse_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            raise TransformError("datetime out of range once in UTC") from None
        precision = "milliseconds" if parsed.microsecond else "seconds"
        return parsed.replace(tzinfo=None).isoformat(timespec=precision) + "Z"

    return utc_datetime


def _iso_date(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    """``YYYY-MM-DD`` from a date or a timestamp: the calendar date as written, no zone shift."""
    _no_argument("iso_date", argument)

    def iso_date(value: Any, trace: Trace) -> Any:
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                raise TransformError("expected an ISO-8601 date") from None
        return _parse_datetime(value).date().isoformat()

    return iso_date


def _map(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    if not isinstance(argument, dict) or not argument:
        raise ValueError("map takes a non-empty mapping of value to value")
    choices = {str(key): target for key, target in argument.items()}

    def map_value(value: Any, trace: Trace) -> Any:
        if not isinstance(value, str | int) or isinstance(value, bool) or str(value) not in choices:
            raise TransformError(f"value not among {sorted(choices)}")
        return choices[str(value)]

    return map_value


def _sorted_join(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    if not isinstance(argument, str) or not argument:
        raise ValueError("sorted_join takes a separator string")
    separator = argument

    def sorted_join(value: Any, trace: Trace) -> Any:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TransformError("expected a list of strings")
        return separator.join(sorted(value))

    return sorted_join


def _const(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    def const(value: Any, trace: Trace) -> Any:
        return argument

    return const


def _table(argument: Any, tables: Mapping[str, CodeTable]) -> Transform:
    if not isinstance(argument, dict) or set(argument) != {"name", "column"}:
        raise ValueError("table takes {name: <table>, column: <column>}")
    name, column = str(argument["name"]), str(argument["column"])
    table = tables.get(name)
    if table is None:
        raise ValueError(f"unknown table {name!r} (declared: {sorted(tables)})")
    if column not in table.declaration.columns:
        raise ValueError(
            f"table {name!r} has no column {column!r} (columns: {list(table.declaration.columns)})"
        )
    lookup = table.column(column)
    policy = table.policy
    fallback = table.declaration.default[column] if table.declaration.default else None
    ignored = frozenset(table.declaration.ignore)

    def look_up(value: Any, trace: Trace) -> Any:
        key = value if isinstance(value, str) else str(value)
        found = lookup.get(key)
        if found is not None:
            return found
        if key in ignored:
            return DROP
        trace.note_unmapped(name, key)
        if policy == "drop":
            return DROP
        if policy == "pass":
            return value
        return fallback

    return look_up


TRANSFORMS: Final[Mapping[str, Factory]] = {
    "digits": _digits,
    "integer": _integer,
    "string": _string,
    "upper": _text_case("upper", str.upper),
    "lower": _text_case("lower", str.lower),
    "trim": _trim,
    "round": _round,
    "clamp": _clamp,
    "boolean": _boolean,
    "utc_millis": _utc_millis,
    "utc_datetime": _utc_datetime,
    "iso_date": _iso_date,
    "map": _map,
    "sorted_join": _sorted_join,
    "const": _const,
    "table": _table,
}


def compile_transform(spec: Any, tables: Mapping[str, CodeTable]) -> Transform | None:
    """Compile a rule's ``transform`` entry; raises ValueError naming what is wrong."""
    if spec is None:
        return None
    steps = spec if isinstance(spec, list) else [spec]
    functions: list[Transform] = []
    for step in steps:
        if isinstance(step, str):
            name, argument = step, None
        elif isinstance(step, dict) and len(step) == 1:
            name, argument = next(iter(step.items()))
        else:
            raise ValueError(f"a transform is a name or a one-key mapping, not {step!r}")
        factory = TRANSFORMS.get(name)
        if factory is None:
            raise ValueError(f"unknown transform {name!r} (known: {sorted(TRANSFORMS)})")
        functions.append(factory(argument, tables))
    return _chain(functions)


def _chain(functions: list[Transform]) -> Transform:
    """Compiled steps applied in order, stopping at the first MISSING or DROP."""
    if len(functions) == 1:
        return functions[0]
    chain = tuple(functions)
    if len(chain) == 2:
        # Two steps is the usual chain (``[string, table]``, ``[clamp, round]``):
        # unrolled, it skips the loop; the early return is the same.
        first, second = chain

        def chained_pair(value: Any, trace: Trace) -> Any:
            value = first(value, trace)
            if value is MISSING or value is DROP:
                return value
            return second(value, trace)

        return chained_pair

    def chained(value: Any, trace: Trace) -> Any:
        for function in chain:
            value = function(value, trace)
            if value is MISSING or value is DROP:
                return value
        return value

    return chained
