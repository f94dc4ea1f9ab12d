"""Field paths: parsing, formatting, getters and setters."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.mapping.paths import MISSING, Path, compile_getter, compile_setter, format_path, parse_path


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        pytest.param("Document", ("Document",), id="one-key"),
        pytest.param("Phone.AreaCode", ("Phone", "AreaCode"), id="nested"),
        pytest.param("scores[-1].value", ("scores", -1, "value"), id="negative-index"),
        pytest.param("a[0][2].b", ("a", 0, 2, "b"), id="two-indexes"),
        pytest.param("[3].x", (3, "x"), id="leading-index"),
        pytest.param("_x.$y.z-1", ("_x", "$y", "z-1"), id="underscore-dollar-dash"),
        pytest.param("a.b.c.d", ("a", "b", "c", "d"), id="deep"),
    ],
)
def test_parse_and_format_round_trip(text: str, steps: Path) -> None:
    assert parse_path(text) == steps
    assert format_path(steps) == text
    assert parse_path(format_path(steps)) == steps


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(".a", id="leading-dot"),
        pytest.param("a.", id="trailing-dot"),
        pytest.param("a..b", id="double-dot"),
        pytest.param("a.[0]", id="dot-before-index"),
        pytest.param("a[0]b", id="key-glued-to-index"),
        pytest.param("a[x]", id="non-numeric-index"),
        pytest.param("a[0", id="unclosed-index"),
        pytest.param("a b", id="space"),
        pytest.param("1a", id="key-starting-with-digit"),
        pytest.param("a[--1]", id="double-minus"),
    ],
)
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="path"):
        parse_path(text)


DOCUMENT: dict[str, Any] = {
    "a": {"b": {"c": 1}},
    "list": [{"v": 10}, {"v": 20}, {"v": 30}],
    "null": None,
    "nested": [[1, 2], [3, 4]],
    "zero": 0,
    "empty": "",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a", {"b": {"c": 1}}, id="top-key"),
        pytest.param("a.b.c", 1, id="deep-key"),
        pytest.param("list[0].v", 10, id="first-item"),
        pytest.param("list[-1].v", 30, id="last-item"),
        pytest.param("list[-3].v", 10, id="negative-at-bound"),
        pytest.param("list[-4].v", MISSING, id="negative-out-of-range"),
        pytest.param("list[3].v", MISSING, id="index-out-of-range"),
        pytest.param("nested[1][0]", 3, id="list-of-lists"),
        pytest.param("a.x", MISSING, id="missing-key"),
        pytest.param("a.b.c.d", MISSING, id="step-into-scalar"),
        pytest.param("a[0]", MISSING, id="index-into-dict"),
        pytest.param("list.v", MISSING, id="key-into-list"),
        pytest.param("null", None, id="json-null-is-not-missing"),
        pytest.param("null.x", MISSING, id="step-into-null"),
        pytest.param("zero", 0, id="falsy-zero"),
        pytest.param("empty", "", id="falsy-empty-string"),
        pytest.param("nope", MISSING, id="missing-top-key"),
    ],
)
def test_getter(text: str, expected: Any) -> None:
    got = compile_getter(parse_path(text))(DOCUMENT)
    if expected is MISSING:
        assert got is MISSING
    else:
        assert got == expected
        assert got is not MISSING


@pytest.mark.parametrize(
    "source",
    [pytest.param(None, id="none"), pytest.param([1], id="list"), pytest.param("s", id="string")],
)
@pytest.mark.parametrize("text", ["a", "a.b", "[0]"])
def test_getter_on_non_objects(source: Any, text: str) -> None:
    got = compile_getter(parse_path(text))(source)
    if text == "[0]" and source == [1]:
        assert got == 1
    else:
        assert got is MISSING


def test_missing_is_falsy_and_named() -> None:
    assert not MISSING
    assert repr(MISSING) == "MISSING"


@pytest.mark.parametrize(
    ("start", "text", "value", "expected"),
    [
        pytest.param({}, "a", 1, {"a": 1}, id="top"),
        pytest.param({}, "a.b.c", 1, {"a": {"b": {"c": 1}}}, id="creates-intermediates"),
        pytest.param({"a": {"x": 2}}, "a.b", 1, {"a": {"x": 2, "b": 1}}, id="keeps-siblings"),
        pytest.param({"a": None}, "a.b", 1, {"a": {"b": 1}}, id="replaces-null-parent"),
        pytest.param({"a": 5}, "a.b", 1, {"a": {"b": 1}}, id="replaces-scalar-parent"),
        pytest.param({"a": 1}, "a", None, {"a": None}, id="writes-null"),
    ],
)
def test_setter(start: dict[str, Any], text: str, value: Any, expected: dict[str, Any]) -> None:
    compile_setter(parse_path(text))(start, value)
    assert start == expected


@pytest.mark.parametrize("text", ["a[0]", "a[0].b", "[1]", "a.b[-1].c"])
def test_setter_refuses_list_indexes(text: str) -> None:
    with pytest.raises(ValueError, match="may not index into a list"):
        compile_setter(parse_path(text))
