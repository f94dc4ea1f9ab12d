"""Contract schemas: loading, is_valid agreeing with violations, every error listed, resolve()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.errors import MappingError
from proxy.mapping.paths import parse_path
from proxy.mapping.schemas import SchemaViolation, load_schema

from .strategies import schema_strategy
from .support import DATATRUST, MAPPINGS, load_json, make_cnpj, make_cpf, schema_from

CPF = make_cpf("529982247")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(
            {"type": "string", "format": "uuid"}, "format 'uuid' is not one of", id="unknown-format"
        ),
        pytest.param(
            {"properties": {"a": {"items": {"format": "phone"}}}},
            "format 'phone' is not one of",
            id="nested-unknown-format",
        ),
        pytest.param(
            {"properties": {"a": {"$ref": "https://example.com/s.json"}}},
            "only local \\$ref is supported, not 'https://example.com/s.json'",
            id="remote-ref",
        ),
        pytest.param({"$ref": "file:///etc/hostname"}, "only local \\$ref is supported", id="file-ref"),
        pytest.param(
            {"items": [{"$ref": "other.json#/x"}]}, "only local \\$ref is supported", id="relative-file-ref"
        ),
        pytest.param({"type": "strin"}, "invalid JSON Schema", id="bad-type"),
        pytest.param({"minLength": -1}, "invalid JSON Schema", id="negative-limit"),
        pytest.param([1, 2], "a schema must be a JSON object", id="array"),
    ],
)
def test_load_refusals(tmp_path: Path, content: Any, reason: str) -> None:
    (tmp_path / "contract").mkdir()
    path = tmp_path / "contract" / "x.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(MappingError, match=reason) as caught:
        load_schema(path, root=tmp_path)
    assert caught.value.file == "contract/x.json"


def test_load_refuses_bad_json_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(MappingError, match=r"^x\.json: not valid JSON"):
        load_schema(tmp_path / "x.json", root=tmp_path)
    with pytest.raises(MappingError, match=r"^y\.json: cannot read schema"):
        load_schema(tmp_path / "y.json", root=tmp_path)


def test_a_property_named_format_or_ref_is_not_a_keyword(tmp_path: Path) -> None:
    schema = schema_from(
        tmp_path,
        {"type": "object", "properties": {"format": {"type": "string"}, "$ref": {"type": "integer"}}},
    )
    assert schema.is_valid({"format": "x", "$ref": 1})
    assert not schema.is_valid({"$ref": "x"})


RESOLVE_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "definitions": {
        "phone": {
            "type": "object",
            "properties": {"AreaCode": {"type": "integer"}, "Number": {"$ref": "#/definitions/n"}},
        },
        "n": {"type": "string", "maxLength": 9},
    },
    "properties": {
        "Phone": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/phone"}]},
        "scores": {"type": "array", "items": {"type": "object", "properties": {"value": {"type": "number"}}}},
        "Kind": {"type": "string"},
        "tags": {"type": "array", "items": [{"type": "string"}]},
    },
    "allOf": [{"properties": {"FromAllOf": {"type": "boolean"}}}],
    "if": {"properties": {"Kind": {"const": "x"}}},
    "then": {"properties": {"OnlyThen": {"type": "string"}}},
    "else": {"properties": {"OnlyElse": {"anyOf": [{"type": "integer"}]}}},
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("Phone.AreaCode", {"type": "integer"}, id="through-oneof-and-ref"),
        pytest.param("Phone.Number", {"type": "string", "maxLength": 9}, id="ref-to-ref"),
        pytest.param("scores[0].value", {"type": "number"}, id="items"),
        pytest.param("scores[-1].value", {"type": "number"}, id="items-negative"),
        pytest.param("FromAllOf", {"type": "boolean"}, id="allof"),
        pytest.param("OnlyThen", {"type": "string"}, id="then"),
        pytest.param("OnlyElse", {"anyOf": [{"type": "integer"}]}, id="else"),
        pytest.param("Kind", {"type": "string"}, id="plain"),
        pytest.param("Phone.Missing", None, id="unknown-nested"),
        pytest.param("Nope", None, id="unknown-top"),
        pytest.param("Kind.x", None, id="into-scalar"),
        pytest.param("scores.value", None, id="key-into-array"),
        pytest.param("tags[0]", None, id="tuple-items-not-followed"),
        pytest.param("Phone[0]", None, id="index-into-object"),
    ],
)
def test_resolve(tmp_path: Path, path: str, expected: dict[str, Any] | None) -> None:
    schema = schema_from(tmp_path, RESOLVE_SCHEMA)
    assert schema.resolve(parse_path(path)) == expected


def test_deref_refuses_remote_refs_met_later(tmp_path: Path) -> None:
    schema = schema_from(tmp_path, {"type": "object"})
    with pytest.raises(MappingError, match="only local"):
        schema.deref({"$ref": "http://example.com/x.json"})


def test_violations_of_the_transaction_contract() -> None:
    schema = load_schema(DATATRUST / "contract" / "transaction.request.json", root=MAPPINGS)
    body = {
        "Document": CPF[:-1] + "0" if CPF[-1] != "0" else CPF[:-1] + "1",
        "Phone": {"AreaCode": "1"},
        "Email": "not-an-email",
        "IdentifierId": "x" * 101,
        "DocumentType": "RG",
    }
    assert not schema.is_valid(body)
    found = {(item.field, item.keyword): item.params for item in schema.violations(body)}
    assert found == {
        ("Document", "format"): {"format": "cpf"},
        ("Phone.Number", "required"): {},
        ("Phone.AreaCode", "pattern"): {},
        ("Email", "format"): {"format": "email"},
        ("IdentifierId", "maxLength"): {"limit": 100},
        ("DocumentType", "pattern"): {},
    }


def test_cnpj_branch_of_if_then_else() -> None:
    schema = load_schema(DATATRUST / "contract" / "transaction.request.json", root=MAPPINGS)
    cnpj = make_cnpj("112223330001")
    assert schema.is_valid({"Document": cnpj, "DocumentType": "cnpj"})
    assert not schema.is_valid({"Document": cnpj})
    assert schema.violations({"Document": CPF, "DocumentType": "CNPJ"}) == [
        SchemaViolation("Document", "format", {"format": "cnpj"})
    ]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("CPF", True, id="plain"),
        pytest.param("CPF\n", False, id="trailing-newline"),
        pytest.param("cnpj", True, id="lower"),
    ],
)
def test_dollar_means_end_of_string_in_both_validators(value: str, valid: bool) -> None:
    schema = load_schema(DATATRUST / "contract" / "transaction.request.json", root=MAPPINGS)
    body = {
        "Document": CPF if value == "CPF" or not valid else make_cnpj("112223330001"),
        "DocumentType": value,
    }
    assert schema.is_valid(body) is valid
    if not valid:
        assert schema.violations(body) == [SchemaViolation("DocumentType", "pattern", {})]


def test_required_reports_every_missing_field(tmp_path: Path) -> None:
    schema = schema_from(tmp_path, {"type": "object", "required": ["A", "B", "C"], "properties": {}})
    assert [item.field for item in schema.violations({"B": 1})] == ["A", "C"]
    assert schema.violations({"A": 1, "B": 2, "C": 3}) == []


# --- is_valid agrees with violations, on every shipped contract ----------------------------

CONTRACTS = sorted((DATATRUST / "contract").glob("*.json")) + sorted(
    (MAPPINGS / "pdt" / "schemas").glob("*.json")
)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            CPF,
            make_cnpj("112223330001"),
            "123.456.789-09",
            "CPF",
            "cnpj",
            "CPF\n",
            "Sms",
            "2024-02-29",
            "2026-11-22T10:00:00Z",
            "a@b.co",
            "11",
            "(11)",
            "98765-4321",
            "01310-100",
            "",
            " ",
            11.0,
            10000000,
            0,
        ]
    ),
)
_junk = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def _near_valid(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    names = sorted(schema.get("properties", {})) or ["x"]
    valid = schema_strategy(schema)
    broken = st.dictionaries(st.sampled_from(names), _junk, max_size=4)
    merged = st.tuples(valid, broken).map(
        lambda pair: {**pair[0], **pair[1]} if isinstance(pair[0], dict) else pair[1]
    )
    return st.one_of(valid, merged, _junk)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_is_valid_agrees_with_violations(path: Path) -> None:
    compiled = load_schema(path, root=MAPPINGS)
    raw = load_json(path)

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_near_valid(raw))
    def agree(document: Any) -> None:
        # A refused body always names at least one field; an accepted one none.
        found = compiled.violations(document)
        assert compiled.is_valid(document) is (not found), found

    agree()


# A oneOf of a pattern-bound string and a ranged integer (Phone.AreaCode's shape).

_STRING = {"type": "string", "pattern": "^[0-9]+$"}
_RANGE = {"type": "integer", "minimum": 11, "maximum": 99}


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("42", True), ("4a", False), (42, True), (10, False), (100, False), (None, False),
        (4.0, False), (True, False), ([], False),
    ],
)  # fmt: skip
def test_a_oneof_of_string_or_integer(tmp_path: Path, value: Any, valid: bool) -> None:
    compiled = schema_from(tmp_path, {"oneOf": [_STRING, _RANGE]})
    assert compiled.is_valid(value) is valid
    assert (compiled.violations(value) == []) is valid


# --- every error listed, with its path, in one pass ---------------------------------------

EVERY: dict[str, Any] = {
    "type": "object",
    "required": ["Id", "Kind"],
    "definitions": {"phone": {"type": "object", "required": ["Number"], "properties": {"Number": _STRING}}},
    "properties": {
        "Id": {"type": "string", "maxLength": 3},
        "Kind": {"enum": ["a", "b"]},
        "Count": {"type": ["integer", "null"], "minimum": 1},
        "When": {"type": "string", "format": "date"},
        "Phone": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/phone"}]},
        "Tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "minLength": 1}},
    },
}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param({"Id": "abc", "Kind": "a"}, [], id="valid"),
        pytest.param(
            {},
            [SchemaViolation("Id", "required", {}), SchemaViolation("Kind", "required", {})],
            id="two-required",
        ),
        pytest.param(
            {"Id": "abcd", "Kind": "c", "Count": 0, "When": "2024-02-30"},
            [
                SchemaViolation("Id", "maxLength", {"limit": 3}),
                SchemaViolation("Kind", "enum", {"allowed": ["a", "b"]}),
                SchemaViolation("Count", "minimum", {"limit": 1}),
                SchemaViolation("When", "format", {"format": "date"}),
            ],
            id="four-fields-at-once",
        ),
        pytest.param(
            {"Id": 1, "Kind": "a", "Count": "2"},
            [
                SchemaViolation("Id", "type", {"type": "string"}),
                SchemaViolation("Count", "type", {"type": ["integer", "null"]}),
            ],
            id="types-as-the-contract-writes-them",
        ),
        pytest.param(
            {"Id": "a", "Kind": "a", "Phone": {}},
            [SchemaViolation("Phone.Number", "required", {})],
            id="through-oneof-and-ref",
        ),
        pytest.param(
            {"Id": "a", "Kind": "a", "Phone": {"Number": "12a"}},
            [SchemaViolation("Phone.Number", "pattern", {})],
            id="nested-pattern",
        ),
        pytest.param(
            {"Id": "a", "Kind": "a", "Phone": 7},
            [SchemaViolation("Phone", "oneOf", {})],
            id="no-branch-meant",
        ),
        pytest.param(
            {"Id": "a", "Kind": "a", "Tags": ["x", "", 3]},
            [
                SchemaViolation("Tags", "maxItems", {"limit": 2}),
                SchemaViolation("Tags[1]", "minLength", {"limit": 1}),
                SchemaViolation("Tags[2]", "type", {"type": "string"}),
            ],
            id="list-items-by-index",
        ),
        pytest.param([], [SchemaViolation("$", "type", {"type": "object"})], id="not-an-object"),
    ],
)
def test_every_error_is_listed(tmp_path: Path, document: Any, expected: list[SchemaViolation]) -> None:
    schema = schema_from(tmp_path, EVERY)
    found = schema.violations(document)
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    assert schema.is_valid(document) is (not expected)
