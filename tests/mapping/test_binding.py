"""Case-insensitive binding of legacy bodies to the contract's canonical names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.mapping.binding import compile_binder
from proxy.mapping.schemas import load_schema

from .support import DATATRUST, MAPPINGS, schema_from

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "definitions": {"phone": {"type": "object", "properties": {"AreaCode": {}, "Number": {}}}},
    "properties": {
        "Document": {"type": "string"},
        "Phone": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/phone"}]},
        "Items": {
            "type": "array",
            "items": {"type": "object", "properties": {"Sku": {}, "Tags": {"type": "array"}}},
        },
        "Matrix": {"type": "array", "items": {"type": "array", "items": {"properties": {"V": {}}}}},
    },
    "then": {"properties": {"OnlyThen": {"type": "string"}}},
}


@pytest.mark.parametrize(
    ("body", "bound"),
    [
        pytest.param({"Document": "1"}, {"Document": "1"}, id="canonical"),
        pytest.param({"document": "1"}, {"Document": "1"}, id="lower"),
        pytest.param({"DOCUMENT": "1"}, {"Document": "1"}, id="upper"),
        pytest.param({"dOcUmEnT": "1"}, {"Document": "1"}, id="mixed"),
        pytest.param(
            {"phone": {"areacode": 11, "NUMBER": 9}}, {"Phone": {"AreaCode": 11, "Number": 9}}, id="nested"
        ),
        pytest.param({"PHONE": None}, {"Phone": None}, id="nested-null"),
        pytest.param({"phone": "11 9999"}, {"Phone": "11 9999"}, id="nested-wrong-type-passes"),
        pytest.param(
            {"items": [{"sku": "a", "extra": 1}, {"SKU": "b"}, 7]},
            {"Items": [{"Sku": "a"}, {"Sku": "b"}, 7]},
            id="array-of-objects",
        ),
        pytest.param({"items": {"sku": "a"}}, {"Items": {"sku": "a"}}, id="array-wrong-type-passes"),
        pytest.param(
            {"items": [{"tags": ["X", {"y": 1}]}]},
            {"Items": [{"Tags": ["X", {"y": 1}]}]},
            id="scalar-array-untouched",
        ),
        pytest.param({"matrix": [[{"v": 1, "w": 2}]]}, {"Matrix": [[{"V": 1}]]}, id="array-of-arrays"),
        pytest.param({"Unknown": 1, "document": "1", "$type": "x"}, {"Document": "1"}, id="unknown-dropped"),
        pytest.param({"onlythen": "x"}, {"OnlyThen": "x"}, id="property-from-then-branch"),
        pytest.param({"Document": "first", "DOCUMENT": "second"}, {"Document": "second"}, id="last-wins"),
        pytest.param(
            {"document": "a", "Document": "b", "DOCUMENT": "c"}, {"Document": "c"}, id="last-of-three-wins"
        ),
        pytest.param({"Phone": {"Number": 1, "number": 2}}, {"Phone": {"Number": 2}}, id="last-wins-nested"),
        pytest.param({}, {}, id="empty"),
    ],
)
def test_binding(tmp_path: Path, body: Any, bound: Any) -> None:
    binder = compile_binder(schema_from(tmp_path, SCHEMA))
    assert binder(body) == bound


@pytest.mark.parametrize("body", [None, [], [{"document": "1"}], "text", 12, True], ids=repr)
def test_non_objects_pass_through(tmp_path: Path, body: Any) -> None:
    binder = compile_binder(schema_from(tmp_path, SCHEMA))
    assert binder(body) == body


def test_binding_does_not_mutate_the_input(tmp_path: Path) -> None:
    binder = compile_binder(schema_from(tmp_path, SCHEMA))
    body = {"document": "1", "phone": {"areacode": 11}}
    binder(body)
    assert body == {"document": "1", "phone": {"areacode": 11}}


def test_a_schema_without_properties_binds_nothing_away(tmp_path: Path) -> None:
    binder = compile_binder(schema_from(tmp_path, {"type": "object"}))
    assert binder({"Anything": 1}) == {"Anything": 1}


@pytest.mark.parametrize("casing", [str, str.lower, str.upper], ids=["pascal", "lower", "upper"])
def test_datatrust_transaction_contract(casing: Any) -> None:
    binder = compile_binder(load_schema(DATATRUST / "contract" / "transaction.request.json", root=MAPPINGS))
    body = {
        casing("Document"): "123.456.789-09",
        casing("DocumentType"): "CPF",
        casing("Phone"): {
            casing("CountryCode"): "55",
            casing("AreaCode"): "11",
            casing("Number"): "98765-4321",
        },
        casing("SessionId"): "s",
        casing("ClientOnlyField"): 1,
    }
    assert binder(body) == {
        "Document": "123.456.789-09",
        "DocumentType": "CPF",
        "Phone": {"CountryCode": "55", "AreaCode": "11", "Number": "98765-4321"},
        "SessionId": "s",
    }
