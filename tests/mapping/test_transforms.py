"""The transform vocabulary: values in, values out, and arguments refused at compile time."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.mapping.paths import MISSING
from proxy.mapping.tables import CodeTable
from proxy.mapping.transforms import DROP, TRANSFORMS, Trace, TransformError, UnmappedCode, compile_transform

from .support import code_table

TABLES: dict[str, CodeTable] = {
    "drop-table": code_table("drop-table", "code,legacy\nA,alpha\nB,beta\n", unmapped="drop"),
    "pass-table": code_table("pass-table", "code,legacy\nA,alpha\n", unmapped="pass"),
    "default-table": code_table(
        "default-table", "code,legacy\nA,alpha\n1,one\n", unmapped="default", default={"legacy": "unknown"}
    ),
}


def run(spec: Any, value: Any, trace: Trace | None = None) -> Any:
    transform = compile_transform(spec, TABLES)
    assert transform is not None
    return transform(value, trace if trace is not None else Trace())


GOOD: list[Any] = [
    pytest.param("digits", "123.456.789-09", "12345678909", id="digits-punctuated"),
    pytest.param("digits", 1234, "1234", id="digits-int"),
    pytest.param("digits", "abc", "", id="digits-no-digits"),
    pytest.param("integer", 42, 42, id="integer-int"),
    pytest.param("integer", 11.0, 11, id="integer-whole-float"),
    pytest.param("integer", "(11)", 11, id="integer-area-code-parens"),
    pytest.param("integer", "98765-4321", 987654321, id="integer-phone-dash"),
    pytest.param("integer", "+55", 55, id="integer-plus-sign"),
    pytest.param("string", 7, "7", id="string-int"),
    pytest.param("string", 1.5, "1.5", id="string-float"),
    pytest.param("string", "x", "x", id="string-str"),
    pytest.param("upper", "cnpj", "CNPJ", id="upper"),
    pytest.param("lower", "SMS", "sms", id="lower"),
    pytest.param("trim", "  Maria  ", "Maria", id="trim"),
    pytest.param("trim", "   ", MISSING, id="trim-blank-is-missing"),
    pytest.param({"round": 2}, 73.7149, 73.71, id="round-2"),
    pytest.param({"round": 0}, 2.6, 3, id="round-0-gives-int"),
    pytest.param({"round": 1}, 5, 5.0, id="round-int"),
    pytest.param({"clamp": [0, 100]}, 120, 100.0, id="clamp-high"),
    pytest.param({"clamp": [0, 100]}, -3, 0.0, id="clamp-low"),
    pytest.param({"clamp": [0, 100]}, 55.5, 55.5, id="clamp-inside"),
    pytest.param("boolean", "true", True, id="boolean-true-text"),
    pytest.param("boolean", 1, True, id="boolean-one"),
    pytest.param("boolean", "0", False, id="boolean-zero-text"),
    pytest.param("boolean", False, False, id="boolean-false"),
    pytest.param("boolean", 1.0, True, id="boolean-json-one-point-zero"),
    pytest.param("string", 12.0, "12", id="string-integral-float"),
    pytest.param("utc_millis", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00.000Z", id="utc-z"),
    pytest.param(
        "utc_millis",
        "2026-11-22T07:00:00.1234567-03:00",
        "2026-11-22T10:00:00.123Z",
        id="utc-offset-7-digits",
    ),
    pytest.param("utc_millis", "2026-11-22T10:00:00", "2026-11-22T10:00:00.000Z", id="utc-naive-is-utc"),
    pytest.param("utc_millis", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", id="utc-year-padded"),
    pytest.param(
        {"utc_datetime": "America/Sao_Paulo"},
        "2017-12-28T13:20:24",
        "2017-12-28T15:20:24Z",
        id="utc-datetime-brasilia-summer-time",
    ),
    pytest.param(
        {"utc_datetime": "America/Sao_Paulo"},
        "2026-07-01T13:20:24",
        "2026-07-01T16:20:24Z",
        id="utc-datetime-brasilia-no-dst",
    ),
    pytest.param(
        {"utc_datetime": "America/Sao_Paulo"},
        "2026-07-01T13:20:24.5+00:00",
        "2026-07-01T13:20:24.500Z",
        id="utc-datetime-offset-wins",
    ),
    pytest.param({"utc_datetime": "UTC"}, "2026-07-01", "2026-07-01T00:00:00Z", id="utc-datetime-bare-date"),
    pytest.param("iso_date", "1990-02-28", "1990-02-28", id="iso-date-date"),
    pytest.param("iso_date", "1990-02-28T00:00:00", "1990-02-28", id="iso-date-midnight-timestamp"),
    pytest.param("iso_date", "1990-02-28T23:30:00-03:00", "1990-02-28", id="iso-date-no-zone-shift"),
    pytest.param({"map": {"Sms": "sms", "1": "one"}}, "Sms", "sms", id="map"),
    pytest.param({"map": {"Sms": "sms", "1": "one"}}, 1, "one", id="map-int-key"),
    pytest.param({"sorted_join": "+"}, ["Phone", "Document"], "Document+Phone", id="sorted-join"),
    pytest.param({"sorted_join": "+"}, [], "", id="sorted-join-empty"),
    pytest.param({"const": "fixed"}, "anything", "fixed", id="const"),
    pytest.param({"const": None}, "anything", None, id="const-null"),
    pytest.param({"table": {"name": "drop-table", "column": "legacy"}}, "A", "alpha", id="table-hit"),
    pytest.param({"table": {"name": "default-table", "column": "legacy"}}, 1, "one", id="table-int-key"),
]


@pytest.mark.parametrize(("spec", "value", "expected"), GOOD)
def test_good_values(spec: Any, value: Any, expected: Any) -> None:
    got = run(spec, value)
    if expected is MISSING:
        assert got is MISSING
    else:
        assert got == expected
        assert type(got) is type(expected)


BAD: list[Any] = [
    pytest.param("digits", None, id="digits-none"),
    pytest.param("digits", True, id="digits-bool"),
    pytest.param("digits", 1.5, id="digits-float"),
    pytest.param("integer", True, id="integer-bool"),
    pytest.param("integer", 1.5, id="integer-fraction"),
    pytest.param("integer", "abc", id="integer-no-digits"),
    pytest.param("integer", "9" * 5000, id="integer-too-long"),
    pytest.param("integer", [1], id="integer-list"),
    pytest.param("string", True, id="string-bool"),
    pytest.param("string", {"a": 1}, id="string-dict"),
    pytest.param("string", 10**5000, id="string-int-too-long"),
    pytest.param("upper", 1, id="upper-int"),
    pytest.param("lower", None, id="lower-none"),
    pytest.param("trim", 5, id="trim-int"),
    pytest.param({"round": 2}, "1.5", id="round-string"),
    pytest.param({"round": 2}, True, id="round-bool"),
    pytest.param({"clamp": [0, 1]}, "5", id="clamp-string"),
    pytest.param("boolean", 2, id="boolean-two"),
    pytest.param("boolean", "yes", id="boolean-yes"),
    pytest.param("boolean", 0.5, id="boolean-fraction"),
    pytest.param("utc_millis", "yesterday", id="utc-words"),
    pytest.param("utc_millis", 1700000000, id="utc-epoch-number"),
    pytest.param("utc_millis", "2026-13-01T00:00:00Z", id="utc-month-13"),
    pytest.param("utc_millis", "0001-01-01T00:00:00+01:00", id="utc-underflow"),
    pytest.param("utc_millis", "9999-12-31T23:59:59-01:00", id="utc-overflow"),
    pytest.param({"utc_datetime": "America/Sao_Paulo"}, "28/12/2017", id="utc-datetime-dmy"),
    pytest.param({"utc_datetime": "America/Sao_Paulo"}, 20171228, id="utc-datetime-number"),
    pytest.param("iso_date", "1990-02-30", id="iso-date-day-30-feb"),
    pytest.param("iso_date", "28/02/1990", id="iso-date-dmy"),
    pytest.param("iso_date", None, id="iso-date-none"),
    pytest.param({"map": {"Sms": "sms"}}, "Fax", id="map-unknown"),
    pytest.param({"map": {"True": "x"}}, True, id="map-bool"),
    pytest.param({"sorted_join": "+"}, "Document", id="sorted-join-string"),
    pytest.param({"sorted_join": "+"}, ["a", 1], id="sorted-join-mixed"),
]


@pytest.mark.parametrize(("spec", "value"), BAD)
def test_bad_values_raise_transform_error(spec: Any, value: Any) -> None:
    with pytest.raises(TransformError):
        run(spec, value)


def test_every_transform_has_good_and_bad_cases() -> None:
    def names(cases: list[Any]) -> set[str]:
        found = set()
        for case in cases:
            spec = case.values[0]
            found.add(spec if isinstance(spec, str) else next(iter(spec)))
        return found

    covered_good = names(GOOD)
    assert covered_good == set(TRANSFORMS)
    # const and table accept any value: they have no bad values, only bad arguments.
    assert names(BAD) == set(TRANSFORMS) - {"const", "table"}


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param("nope", "unknown transform 'nope'", id="unknown-name"),
        pytest.param({"digits": 1}, "'digits' takes no argument", id="argument-to-plain"),
        pytest.param({"upper": True}, "'upper' takes no argument", id="argument-to-case"),
        pytest.param({"round": 7}, "round takes a number of decimals from 0 to 6", id="round-too-many"),
        pytest.param({"round": -1}, "from 0 to 6", id="round-negative"),
        pytest.param({"round": True}, "from 0 to 6", id="round-bool"),
        pytest.param({"round": "2"}, "from 0 to 6", id="round-string"),
        pytest.param("round", "from 0 to 6", id="round-without-argument"),
        pytest.param({"clamp": [5, 1]}, r"clamp takes \[low, high\] with low <= high", id="clamp-reversed"),
        pytest.param({"clamp": [1]}, "clamp takes", id="clamp-one-bound"),
        pytest.param({"clamp": [0, True]}, "clamp takes", id="clamp-bool-bound"),
        pytest.param({"utc_datetime": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'", id="zone-unknown"),
        pytest.param({"utc_datetime": "../etc/passwd"}, "unknown time zone", id="zone-path"),
        pytest.param("utc_datetime", "takes an IANA time zone name", id="zone-missing"),
        pytest.param({"iso_date": "x"}, "'iso_date' takes no argument", id="argument-to-iso-date"),
        pytest.param({"map": {}}, "map takes a non-empty mapping", id="map-empty"),
        pytest.param({"map": ["a"]}, "map takes a non-empty mapping", id="map-list"),
        pytest.param({"sorted_join": ""}, "sorted_join takes a separator string", id="join-empty"),
        pytest.param({"sorted_join": 1}, "sorted_join takes a separator string", id="join-int"),
        pytest.param(
            {"table": "insights"}, r"table takes \{name: <table>, column: <column>\}", id="table-string"
        ),
        pytest.param({"table": {"name": "drop-table"}}, "table takes", id="table-no-column"),
        pytest.param(
            {"table": {"name": "ghost", "column": "legacy"}}, "unknown table 'ghost'", id="table-unknown"
        ),
        pytest.param(
            {"table": {"name": "drop-table", "column": "legacyy"}},
            "table 'drop-table' has no column 'legacyy'",
            id="table-column-typo",
        ),
        pytest.param(
            {"upper": None, "lower": None}, "a transform is a name or a one-key mapping", id="two-keys"
        ),
        pytest.param([1], "a transform is a name or a one-key mapping", id="number-in-chain"),
        pytest.param(["trim", "bogus"], "unknown transform 'bogus'", id="bad-step-in-chain"),
    ],
)
def test_bad_arguments_fail_at_compile_time(spec: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        compile_transform(spec, TABLES)
    assert not isinstance(caught.value, TransformError)


def test_no_transform_compiles_to_none() -> None:
    assert compile_transform(None, TABLES) is None


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        pytest.param(["trim", "upper"], "  cpf ", "CPF", id="applies-in-order"),
        pytest.param([{"sorted_join": "+"}, "lower"], ["B", "A"], "a+b", id="join-then-lower"),
        pytest.param([{"clamp": [0, 100]}, {"round": 2}], 100.456, 100.0, id="clamp-then-round"),
        pytest.param(
            ["string", {"table": {"name": "default-table", "column": "legacy"}}],
            1,
            "one",
            id="string-then-table",
        ),
    ],
)
def test_chains(spec: list[Any], value: Any, expected: Any) -> None:
    assert run(spec, value) == expected


def test_chain_stops_on_missing() -> None:
    # "upper" would raise on MISSING: reaching it would be a bug.
    assert run(["trim", "upper"], "   ") is MISSING


def test_chain_stops_on_drop() -> None:
    trace = Trace()
    assert run([{"table": {"name": "drop-table", "column": "legacy"}}, "upper"], "Z", trace) is DROP
    assert trace.unmapped == [UnmappedCode("drop-table", "Z")]


def test_chain_propagates_errors_of_a_later_step() -> None:
    with pytest.raises(TransformError):
        run(["string", "boolean"], 7)


@pytest.mark.parametrize(
    ("table", "value", "expected"),
    [
        pytest.param("drop-table", "Z", DROP, id="drop"),
        pytest.param("pass-table", "Z", "Z", id="pass-string"),
        pytest.param("pass-table", 9, 9, id="pass-keeps-raw-type"),
        pytest.param("default-table", "Z", "unknown", id="default"),
    ],
)
def test_unmapped_policies(table: str, value: Any, expected: Any) -> None:
    trace = Trace()
    lookup = compile_transform({"table": {"name": table, "column": "legacy"}}, TABLES)
    assert lookup is not None
    for _ in range(3):
        got = lookup(value, trace)
        assert got is expected if expected is DROP else got == expected
    assert trace.unmapped == [UnmappedCode(table, str(value))]


def test_unmapped_codes_recorded_once_per_table_and_code() -> None:
    trace = Trace()
    drop = compile_transform({"table": {"name": "drop-table", "column": "legacy"}}, TABLES)
    default = compile_transform({"table": {"name": "default-table", "column": "legacy"}}, TABLES)
    assert drop is not None
    assert default is not None
    for code in ("X", "Y", "X", "A", "Y"):
        drop(code, trace)
        default(code, trace)
    assert trace.unmapped == [
        UnmappedCode("drop-table", "X"),
        UnmappedCode("default-table", "X"),
        UnmappedCode("drop-table", "Y"),
        UnmappedCode("default-table", "Y"),
    ]


def test_ignored_keys_are_dropped_without_being_counted() -> None:
    table = code_table("pairs", "code,legacy\nA,alpha\n", unmapped="drop", ignore=("Email+Phone",))
    lookup = compile_transform({"table": {"name": "pairs", "column": "legacy"}}, {"pairs": table})
    assert lookup is not None
    trace = Trace()
    assert lookup("Email+Phone", trace) is DROP
    assert lookup("Other+Pair", trace) is DROP
    assert trace.unmapped == [UnmappedCode("pairs", "Other+Pair")]


def test_hits_record_nothing() -> None:
    trace = Trace()
    assert run({"table": {"name": "drop-table", "column": "legacy"}}, "B", trace) == "beta"
    assert trace.unmapped == []


def test_drop_is_named() -> None:
    assert repr(DROP) == "DROP"
