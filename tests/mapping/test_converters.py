"""Registered converters (``convert: <name>``): the registry, the shipped ones, the rule hook."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from proxy.mapping.converters import converter, converter_names, get_converter, with_converter
from proxy.mapping.paths import MISSING
from proxy.mapping.spec import FieldRule
from proxy.mapping.transforms import Trace, TransformError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(["Email", "Document"], "Document+Email", id="pair-sorted"),
        pytest.param(["Document", "Phone"], "Document+Phone", id="pair-in-order"),
        pytest.param(["ZipCode"], "ZipCode", id="one"),
        pytest.param([], "", id="none"),
    ],
)
def test_relation_key(value: list[str], expected: str) -> None:
    assert get_converter("relation_key")(value) == expected


@pytest.mark.parametrize("value", [["Email", 1], "Document", None, {"a": "b"}], ids=repr)
def test_relation_key_refuses_what_is_not_a_list_of_names(value: Any) -> None:
    with pytest.raises(ValueError, match="expected a list of strings"):
        get_converter("relation_key")(value)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown converter 'nope' \(known: .*relation_key"):
        get_converter("nope")


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="converter 'relation_key' is already registered"):
        converter("relation_key")(lambda value: value)
    assert get_converter("relation_key")(["b", "a"]) == "a+b"


# Registered for good (the registry is process-wide, as the shipped converters'):
# its name says whose it is.
@converter("test_halve_even")
def _halve_even(value: Any) -> Any:
    """A converter for these tests: half of an even integer, nothing for an odd one."""
    if not isinstance(value, int):
        raise ValueError("expected an integer")
    return value // 2 if value % 2 == 0 else None


def _plus_one(value: Any, trace: Trace) -> Any:
    return value + 1


@pytest.mark.parametrize(
    ("then", "value", "expected"),
    [
        pytest.param(None, 8, 4, id="converter-alone"),
        pytest.param(_plus_one, 8, 5, id="then-the-transform"),
        pytest.param(_plus_one, 7, MISSING, id="none-is-absent-and-skips-the-transform"),
    ],
)
def test_with_converter(then: Any, value: int, expected: Any) -> None:
    step = with_converter("test_halve_even", then)
    assert step is not None
    assert step(value, Trace()) == expected


def test_a_converter_refusal_is_a_transform_error() -> None:
    step = with_converter("test_halve_even", None)
    assert step is not None
    with pytest.raises(TransformError, match="expected an integer"):
        step("8", Trace())


def test_without_a_converter_the_transform_is_unchanged() -> None:
    assert with_converter(None, _plus_one) is _plus_one
    assert with_converter(None, None) is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param(
            {"to": "a", "from": "b", "convert": "nope"}, "unknown converter 'nope'", id="unknown-name"
        ),
        pytest.param(
            {"to": "a", "convert": "relation_key", "default": 1}, "'convert' needs 'from'", id="no-from"
        ),
    ],
)
def test_rule_model_refuses(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FieldRule.model_validate(rule)


def test_the_shipped_names_include_the_ones_the_mappings_use() -> None:
    assert "relation_key" in converter_names()
