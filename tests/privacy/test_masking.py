"""proxy.privacy.masking: structured data masked by field name, nothing personal left."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from proxy.privacy.masking import mask_mapping, mask_value
from proxy.privacy.shapes import MASK

# --- mask_value ---------------------------------------------------------------------------

MASKED_VALUES: list[tuple[str, object, object]] = [
    ("Document", "123.456.789-09", "***.***.***-09"),
    ("document", "12345678909", "***.***.***-09"),
    ("Cpf", "01234567890", "***.***.***-90"),
    ("CNPJ", "11.222.333/0001-81", "**.***.***/****-81"),
    ("secondaryDocument", "11222333000181", "**.***.***/****-81"),
    ("ownerDocument", "12345678909", "***.***.***-09"),
    ("document", "not a document", MASK),
    ("Name", "Maria da Silva", MASK),
    ("mothersName", "Ana", MASK),
    ("ownerName", "MARIA D SILVA", MASK),
    ("CustomerName", "Nome do Cliente", MASK),
    ("customer_name", "Nome", MASK),
    ("Email", "maria@example.com", "m***@example.com"),
    ("email", "not-an-email", MASK),
    ("Phone", "988056887", "*******87"),
    ("phone", "+55 11 98805-6887", "+55 11 *****-**87"),
    ("Number", 988056887, "*******87"),
    ("number", "12355", "***55"),
    ("Phones", ["11988056887"], ["11*******87"]),
    ("BirthDate", "1990-01-31", MASK),
    ("birthdate", "1990-01-31", MASK),
    ("Street", "Rua Teste", MASK),
    ("complement", "apto 3", MASK),
    ("District", "Centro", MASK),
    ("address", "Rua Teste, 12", MASK),
    ("ZipCode", "06454-050", "06454***"),
    ("cep", "06454050", "06454***"),
    ("Password", "hunter2", MASK),
    ("token", "opaque", MASK),
    ("Authorization", "Bearer abc", MASK),
    ("x-api-key", "k", MASK),
    ("Value", "123456", MASK),  # a 2FA code
]

KEPT_VALUES: list[tuple[str, object]] = [
    ("value", 73.71),  # a score
    ("value", 3),  # a rating
    ("Value", "High"),
    ("AreaCode", "11"),
    ("DDD", "11"),
    ("CountryCode", 55),
    ("City", "São Paulo"),
    ("State", "SP"),
    ("DocumentType", "CPF"),
    ("Document", None),
    ("BirthDate", None),
    ("OrderID", "FINTECH_20171205"),
    ("ValidatedTokenSMS", 1),
    ("verifiedEmail", True),
]


@pytest.mark.parametrize(("key", "value", "expected"), MASKED_VALUES)
def test_mask_value_by_field_name(key: str, value: object, expected: object) -> None:
    assert mask_value(key, value) == expected


@pytest.mark.parametrize(("key", "value"), KEPT_VALUES)
def test_mask_value_keeps_non_personal_fields(key: str, value: object) -> None:
    assert mask_value(key, value) == value


def test_mask_value_falls_back_to_text_rules_for_unknown_names() -> None:
    assert mask_value("note", "call 11988056887") == "call 11*******87"
    assert mask_value("genericField", 12345678909) == "***.***.***-09"
    assert mask_value("count", 12345678900) == 12345678900


# --- mask_mapping on realistic bodies -------------------------------------------------------

DATATRUST_V1_REQUEST: dict[str, Any] = {
    "IdentifierId": "pedido-123",
    "DocumentType": "CPF",
    "Document": "123.456.789-09",
    "Name": "Maria Aparecida da Silva",
    "BirthDate": "1990-01-31",
    "Email": "maria.aparecida@example.com",
    "Phone": {"CountryCode": 55, "AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
    "SessionId": "cd161347af40806c",
}

FFR_REQUEST: dict[str, Any] = {
    "OrderID": "FINTECH_20171205",
    "OrderDate": "2017-12-28T13:20:24",
    "SessionID": "cd161347af40806c",
    "ReferenceDate": None,
    "BirthDate": "1985-07-04",
    "Email": "joao.teste@teste.com",
    "Cpf": "01234567890",
    "ValidatedTokenEmail": 1,
    "ValidatedTokenSMS": 1,
    "Name": "Joao Teste",
    "Addresses": [
        {
            "Street": "Rua Jacarandá",
            "Number": "12355",
            "Complement": "Esquina 3",
            "District": "Vila Madalena",
            "City": "São Paulo",
            "State": "SP",
            "Country": "Brasil",
            "ZipCode": "05433000",
            "TypeID": 1,
        }
    ],
    "Phones": [{"TypeID": 1, "DDI": "55", "DDD": "11", "Number": "999887766"}],
}

MOBILE_TRUST_REQUEST: dict[str, Any] = {
    "Document": "19678335832",
    "DocumentType": "CPF",
    "AreaCode": "11",
    "Phone": "988056887",
    "BlockSmsSending": True,
    "ZipCode": "06454050",
    "Email": "cliente@example.com",
    "AdditionalInformation": {
        "Transaction": "123456789",
        "Item": "Teste",
        "Price": "1080.60",
        "CustomerName": "Nome do Cliente",
        "Other": None,
    },
}

PDT_TRANSACTION: dict[str, Any] = {
    "identifierId": "pedido-123",
    "documentType": "CPF",
    "document": "12345678909",
    "name": "Maria Aparecida da Silva",
    "mothersName": "Ana Aparecida",
    "birthdate": "1990-01-31",
    "email": "maria.aparecida@example.com",
    "address": {"zipCode": "06454050", "street": "Rua Jacarandá", "number": "12355", "city": "Barueri"},
    "phone": {"countryCode": 55, "areaCode": 11, "number": 988056887, "verified": True},
    "card": {"bin": "411111", "last4": "1111", "ownerName": "MARIA A SILVA", "ownerDocument": "12345678909"},
    "secondaryDocumentType": "CNPJ",
    "secondaryDocument": "11222333000181",
    "genericFields": {"note": "contact maria.aparecida@example.com or (11) 98805-6887"},
}

# Values that must not appear anywhere in the masked output, per body.
PERSONAL_VALUES = {
    "datatrust-v1": (
        DATATRUST_V1_REQUEST,
        ["12345678909", "123.456.789", "Maria", "Silva", "1990-01-31", "maria.aparecida", "988056887",
         "06454050", "06454-050"],
    ),
    "ffr": (
        FFR_REQUEST,
        ["01234567890", "Joao", "1985-07-04", "joao.teste", "Jacaran", "Esquina", "Madalena", "999887766",
         "05433000"],
    ),
    "mobile-trust": (
        MOBILE_TRUST_REQUEST,
        ["19678335832", "988056887", "06454050", "cliente@", "Nome do Cliente"],
    ),
    "pdt-transaction": (
        PDT_TRANSACTION,
        ["12345678909", "Maria", "Ana Aparecida", "1990-01-31", "maria.aparecida", "Jacaran", "988056887",
         "98805-6887", "11222333000181", "06454050"],
    ),
}  # fmt: skip


def _digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.mark.parametrize("body_name", sorted(PERSONAL_VALUES))
def test_mask_mapping_leaves_no_personal_value(body_name: str) -> None:
    body, personal = PERSONAL_VALUES[body_name]
    dumped = orjson.dumps(mask_mapping(body)).decode()
    for value in personal:
        assert value not in dumped, value
    # No document or phone survives as a digit run either, whatever its punctuation.
    for value in personal:
        if value.isdigit() and len(value) >= 9:
            assert value not in _digits_only(dumped), value


def test_mask_mapping_keeps_the_shape_and_the_non_personal_fields() -> None:
    masked = mask_mapping(FFR_REQUEST)
    assert set(masked) == set(FFR_REQUEST)
    assert masked["OrderID"] == "FINTECH_20171205"
    assert masked["ValidatedTokenSMS"] == 1
    assert masked["ReferenceDate"] is None
    assert masked["Addresses"][0]["City"] == "São Paulo"
    assert masked["Phones"][0] == {"TypeID": 1, "DDI": "55", "DDD": "11", "Number": "*******66"}
    assert masked["Cpf"] == "***.***.***-90"


def test_mask_mapping_is_a_copy() -> None:
    body = {"Document": "12345678909", "Phone": {"Number": "988056887"}}
    mask_mapping(body)
    assert body == {"Document": "12345678909", "Phone": {"Number": "988056887"}}


def test_mask_mapping_drops_named_keys_at_any_depth() -> None:
    data = {
        "Authorization": "Bearer x",
        "headers": {"X-Api-Key": "k", "accept": "json"},
        "n": [{"cookie": 1}],
    }
    assert mask_mapping(data, drop=["authorization", "x-api-key", "cookie"]) == {
        "headers": {"accept": "json"},
        "n": [{}],
    }


def test_mask_mapping_renders_foreign_objects_as_masked_text() -> None:
    error = ValueError("bad cpf 12345678909")
    assert mask_mapping({"error": error, "pair": ("a", "12345678909")}) == {
        "error": "bad cpf ***.***.***-09",
        "pair": ["a", "***.***.***-09"],
    }


def test_mask_mapping_masks_keys_too() -> None:
    assert mask_mapping({"12345678909": 1}) == {"***.***.***-09": 1}


# --- a street Number is not a phone -------------------------------------------------------

NUMBERS_IN_CONTEXT: list[tuple[dict[str, Any], object]] = [
    # (an object holding "Number", what mask_mapping leaves under it)
    ({"Street": "Rua A", "Number": "1500"}, "1500"),
    ({"street": "Rua A", "number": 12355, "city": "Barueri"}, 12355),
    ({"AddressLine": "Av. Paulista", "Number": "1578A"}, "1578A"),
    # Not an address: a phone's Number, and a ZipCode alone (legacy requests carry one
    # at the top level beside the person's phone).
    ({"AreaCode": "11", "Number": "988056887"}, "*******87"),
    ({"ZipCode": "06454050", "Number": "988056887"}, "*******87"),
    ({"Number": "1500"}, "**00"),
]


@pytest.mark.parametrize(("data", "expected"), NUMBERS_IN_CONTEXT)
def test_a_number_is_a_phone_unless_it_is_in_an_address(data: dict[str, Any], expected: object) -> None:
    key = next(name for name in data if name.casefold() == "number")
    assert mask_mapping(data)[key] == expected


def test_the_ffr_address_keeps_its_number_and_the_phone_does_not() -> None:
    masked = mask_mapping(FFR_REQUEST)
    assert masked["Addresses"][0]["Number"] == "12355"
    assert masked["Addresses"][0]["Street"] == MASK
    assert masked["Phones"][0]["Number"] == "*******66"
