"""The simulator's ASP.NET Core binding, as data: (body sent, body bound) rows per PDT schema."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.simulators.binding import RECONSTRUCTED, compile_binder, simulator_schema
from proxy.simulators.validation import BodyValidator

from .support import schema

TRANSACTION = compile_binder(schema("transaction.request.json"))
LOGIN = compile_binder(schema("authentication.request.json"))
CPF = {"documentType": "CPF", "document": "12345678909"}

# (what a client sends, what the model binds) — System.Text.Json web defaults.
TRANSACTION_ROWS: list[Any] = [
    pytest.param({"DocumentType": "CPF", "DOCUMENT": "12345678909"}, CPF, id="member-case-ignored"),
    pytest.param({**CPF, "Vehicle": {"plate": "ABC1D23"}}, CPF, id="unknown-vehicle-skipped"),
    pytest.param(
        {
            **CPF,
            "fatherName": "x",
            "gender": "F",
            "tradeName": "x",
            "cnaes": ["6201"],
            "issuanceDateDocument": "2020-01-01",
        },
        CPF,
        id="newer-documented-members-skipped",
    ),
    pytest.param(
        {**CPF, "phone": {"type": None, "AreaCode": "11", "number": "988887777", "countryCode": 55}},
        {**CPF, "phone": {"areaCode": 11, "number": 988887777, "countryCode": 55}},
        id="phone-type-skipped-numbers-from-strings",
    ),
    pytest.param({**CPF, "channelId": "12"}, {**CPF, "channelId": 12}, id="number-from-integer-string"),
    pytest.param(
        {**CPF, "channelId": "-1.5e2"}, {**CPF, "channelId": -150.0}, id="number-from-exponent-string"
    ),
    pytest.param({**CPF, "criterion": "1.5"}, {**CPF, "criterion": "1.5"}, id="integer-refuses-a-fraction"),
    pytest.param({**CPF, "criterion": " 1"}, {**CPF, "criterion": " 1"}, id="no-blanks-around-numbers"),
    pytest.param({**CPF, "criterion": "+1"}, {**CPF, "criterion": "+1"}, id="no-plus-sign"),
    pytest.param({**CPF, "channelId": "NaN"}, {**CPF, "channelId": "NaN"}, id="no-named-literals"),
    pytest.param({**CPF, "name": 42}, {**CPF, "name": 42}, id="no-number-to-string"),
    pytest.param(
        {**CPF, "verifiedEmail": "true"}, {**CPF, "verifiedEmail": "true"}, id="no-string-to-boolean"
    ),
    pytest.param(
        {**CPF, "genericFields": {"Any": {"x": "1"}}},
        {**CPF, "genericFields": {"Any": {"x": "1"}}},
        id="free-form-verbatim",
    ),
    pytest.param(
        {"document": "1", "Document": "2", "documentType": "CPF"},
        {"document": "2", "documentType": "CPF"},
        id="later-spelling-wins",
    ),
    pytest.param({**CPF, "address": None}, {**CPF, "address": None}, id="null-object-kept"),
    pytest.param([CPF], [CPF], id="not-an-object-left-to-validation"),
]


@pytest.mark.parametrize(("sent", "bound"), TRANSACTION_ROWS)
def test_transaction_binding(sent: Any, bound: Any) -> None:
    assert TRANSACTION(sent) == bound


@pytest.mark.parametrize(
    ("sent", "bound"),
    [
        ({"username": "a", "password": "b"}, {"Username": "a", "Password": "b"}),
        ({"USERNAME": "a", "Password": "b", "grant_type": "password"}, {"Username": "a", "Password": "b"}),
    ],
    ids=["lower-case", "upper-case-and-extra"],
)
def test_login_binding(sent: Any, bound: Any) -> None:
    assert LOGIN(sent) == bound


def test_the_simulator_schema_drops_only_reconstructed_constraints() -> None:
    original = schema("transaction.request.json")
    enforced = simulator_schema(original)
    zip_code = enforced["properties"]["address"]["properties"]["zipCode"]
    assert "pattern" not in zip_code
    assert "pattern" not in enforced["properties"]["identifierDate"]
    assert "enum" not in enforced["properties"]["documentType"]
    assert "required" not in enforced["properties"]["phone"]
    assert "additionalProperties" not in enforced
    # Documented: digits-only documents, the birthdate format, the member types.
    assert enforced["properties"]["document"]["pattern"] == "^[0-9]+$"
    assert enforced["properties"]["birthdate"]["pattern"] == original["properties"]["birthdate"]["pattern"]
    assert enforced["properties"]["phone"]["properties"]["areaCode"]["type"] == "integer"
    assert enforced["required"] == ["documentType", "document"]
    assert RECONSTRUCTED not in str(enforced)
    # The proxy still holds its own requests to the full schema.
    assert original["properties"]["address"]["properties"]["zipCode"]["pattern"] == "^[0-9]{8}$"


def test_each_missing_member_is_named_once() -> None:
    # jsonschema reports one "required" error per missing member; each named them all.
    errors = BodyValidator(schema("transaction.request.json")).errors({})
    assert errors == {
        "documentType": ["The documentType field is required."],
        "document": ["The document field is required."],
    }
