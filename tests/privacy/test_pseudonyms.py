"""proxy.privacy.pseudonyms: keyed stand-ins of the same kind and shape."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from proxy.privacy.pseudonyms import (
    PLACEHOLDER_ADDRESS,
    PLACEHOLDER_BIRTHDATE,
    PLACEHOLDER_NAME,
    pseudonym,
    pseudonymise_mapping,
    pseudonymous_cnpj,
    pseudonymous_cpf,
    pseudonymous_email,
    pseudonymous_phone,
    secret_fields,
)
from proxy.privacy.shapes import MASK
from tests.privacy.support import KEY, OTHER_KEY, cpf_bases, formatted, valid_cpf

# --- pseudonym -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("123.456.789-09", "12345678909"),
        (" 12345678909 ", "12345678909"),
        ("(11) 98805-6887", "11988056887"),
        ("Maria@Example.com", "maria@example.com"),
    ],
)
def test_pseudonym_is_stable_across_formats(first: str, second: str) -> None:
    assert pseudonym(first, key=KEY) == pseudonym(second, key=KEY)


def test_pseudonym_shape_and_key_dependence() -> None:
    token = pseudonym("12345678909", key=KEY)
    assert re.fullmatch(r"[0-9a-f]{16}", token)
    assert token != pseudonym("12345678909", key=OTHER_KEY)
    assert token != pseudonym("01234567890", key=KEY)
    assert "12345678909" not in token


def test_pseudonym_refuses_a_short_key() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonym("12345678909", key=b"short")


# --- structured pseudonyms (replay corpora) ------------------------------------------------------


@given(base=cpf_bases, punctuated=st.booleans())
def test_pseudonymous_cpf_is_another_valid_cpf_in_the_same_shape(base: str, punctuated: bool) -> None:
    cpf = valid_cpf(base)
    written = formatted(cpf) if punctuated else cpf
    result = pseudonymous_cpf(written, key=KEY)
    digits = re.sub(r"\D", "", result)
    assert stdnum_cpf.is_valid(digits)
    assert digits != cpf
    assert re.sub(r"\d", "0", result) == re.sub(r"\d", "0", written)  # punctuation kept
    assert pseudonymous_cpf(cpf, key=KEY) == digits  # one person, however written


def test_pseudonymous_cpf_is_keyed_and_deterministic() -> None:
    assert pseudonymous_cpf("123.456.789-09", key=KEY) == pseudonymous_cpf("123.456.789-09", key=KEY)
    assert pseudonymous_cpf("12345678909", key=KEY) != pseudonymous_cpf("12345678909", key=OTHER_KEY)
    with pytest.raises(ValueError, match="11 digits"):
        pseudonymous_cpf("1234", key=KEY)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymous_cpf("12345678909", key=b"short")


def test_pseudonymous_cnpj_is_valid_and_keeps_punctuation() -> None:
    result = pseudonymous_cnpj("11.222.333/0001-81", key=KEY)
    assert re.fullmatch(r"\d\d\.\d{3}\.\d{3}/\d{4}-\d\d", result)
    assert stdnum_cnpj.is_valid(re.sub(r"\D", "", result))
    assert result != "11.222.333/0001-81"


PHONES = [
    # (original, pattern the pseudonym has): DDD, country code, first two digits and punctuation kept.
    ("11988056887", r"1198\d{7}"),
    ("+55 11 98805-6887", r"\+55 11 98\d{3}-\d{4}"),
    ("(21) 3333-4444", r"\(21\) 33\d{2}-\d{4}"),
    ("988056887", r"98\d{7}"),
    ("12355", r"\d{5}"),  # a street number under "Number": digits of the same length
]


@pytest.mark.parametrize(("phone", "shape"), PHONES)
def test_pseudonymous_phone_keeps_the_shape(phone: str, shape: str) -> None:
    result = pseudonymous_phone(phone, key=KEY)
    assert re.fullmatch(shape, result), result
    assert result != phone


def test_a_subscriber_gets_one_pseudonym_with_or_without_its_ddd() -> None:
    whole = pseudonymous_phone("11988056887", key=KEY)
    assert whole == "11" + pseudonymous_phone("988056887", key=KEY)


def test_pseudonymous_email_is_at_example_com_and_case_insensitive() -> None:
    result = pseudonymous_email("Maria.Silva@Empresa.com.br", key=KEY)
    assert re.fullmatch(r"u[0-9a-f]{12}@example\.com", result)
    assert result == pseudonymous_email("maria.silva@empresa.com.br", key=KEY)
    assert result != pseudonymous_email("joao@empresa.com.br", key=KEY)


def test_pseudonymise_mapping_replaces_every_personal_value_by_one_of_its_kind() -> None:
    body: dict[str, Any] = {
        "IdentifierId": "pedido-123",
        "Document": "123.456.789-09",
        "Name": "Maria da Silva",
        "Email": "maria@example.org",
        "Phone": {"AreaCode": "11", "Number": "988056887"},
        "ZipCode": "06454-050",
        "BirthDate": "1990-02-03T00:00:00",
        "Addresses": [{"Street": "Rua A", "Number": "12", "City": "São Paulo"}],
        "Password": "hunter2",
        "Score": 41.3,
        "BlockSmsSending": True,
        "Other": None,
    }
    masked = pseudonymise_mapping(body, key=KEY)
    assert masked["IdentifierId"] == "pedido-123"
    assert stdnum_cpf.is_valid(re.sub(r"\D", "", masked["Document"]))
    assert masked["Document"] != body["Document"]
    assert masked["Name"] == PLACEHOLDER_NAME
    assert masked["Email"].endswith("@example.com")
    assert masked["Phone"]["AreaCode"] == "11"
    assert re.fullmatch(r"98\d{7}", masked["Phone"]["Number"])
    assert masked["ZipCode"] == "06454-000"
    assert masked["BirthDate"] == PLACEHOLDER_BIRTHDATE + "T00:00:00"
    assert masked["Addresses"][0]["Street"] == PLACEHOLDER_ADDRESS
    assert masked["Addresses"][0]["City"] == "São Paulo"
    assert masked["Password"] == MASK
    assert (masked["Score"], masked["BlockSmsSending"], masked["Other"]) == (41.3, True, None)
    assert pseudonymise_mapping(body, key=KEY) == masked  # deterministic
    dumped = orjson.dumps(masked).decode()
    for secret in ("12345678909", "123.456.789-09", "maria@example.org", "988056887", "Maria", "hunter2"):
        assert secret not in dumped


def test_a_document_in_a_request_and_its_echo_in_an_answer_agree() -> None:
    request = pseudonymise_mapping({"Document": "19678335832"}, key=KEY)
    answer = pseudonymise_mapping({"TransactionID": "x", "Document": "19678335832"}, key=KEY)
    assert request["Document"] == answer["Document"]


def test_whole_values_under_unknown_names_get_pseudonyms_and_free_text_is_masked() -> None:
    masked = pseudonymise_mapping(
        {"Contact": "maria@example.org", "Ref": "123.456.789-09", "Note": "call 11988056887"}, key=KEY
    )
    assert masked["Contact"] == pseudonymous_email("maria@example.org", key=KEY)
    assert masked["Ref"] == pseudonymous_cpf("123.456.789-09", key=KEY)
    assert masked["Note"] == "call 11*******87"


SECRETS = [
    ({"Channel": "Sms", "Value": "123456"}, ("Value",)),
    ({"Channel": "Sms"}, ()),
    ({"ratings": [{"value": "High"}]}, ()),
    ({"auth": {"Password": "x", "Username": "u"}}, ("auth.Password",)),
    ({"list": [{"token": "t"}]}, ("list[].token",)),
]


@pytest.mark.parametrize(("data", "expected"), SECRETS)
def test_secret_fields_names_what_a_replay_cannot_have(data: Any, expected: tuple[str, ...]) -> None:
    assert secret_fields(data) == expected


def test_a_two_factor_code_becomes_zeros_of_its_length() -> None:
    assert pseudonymise_mapping({"Value": "123456"}, key=KEY) == {"Value": "000000"}


def test_a_street_number_is_kept_and_a_phone_number_is_not() -> None:
    body = {
        "Addresses": [{"Street": "Rua A", "Number": "1500", "City": "São Paulo"}],
        "Phones": [{"DDD": "11", "Number": "988056887"}],
    }
    masked = pseudonymise_mapping(body, key=KEY)
    assert masked["Addresses"][0] == {"Street": PLACEHOLDER_ADDRESS, "Number": "1500", "City": "São Paulo"}
    assert re.fullmatch(r"98\d{7}", masked["Phones"][0]["Number"])
    assert masked["Phones"][0]["Number"] != "988056887"
