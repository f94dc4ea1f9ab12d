"""proxy.privacy.scrub: personal data found by shape in free text, masked and reported."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.privacy.fields import names_of
from proxy.privacy.scrub import (
    KEY_WORDS,
    PERSONAL_DATA_KINDS,
    PersonalDataKind,
    find_personal_data,
    mask_text,
)
from tests.privacy.support import cpf_bases, formatted, valid_cpf

# --- mask_text ---------------------------------------------------------------------------

MASKED_TEXT = [
    # CPF: masked only with valid check digits; check digits kept.
    ("cpf 123.456.789-09 ok", "cpf ***.***.***-09 ok"),
    ("12345678909", "***.***.***-09"),
    ("CPF:01234567890.", "CPF:***.***.***-90."),
    ("doc=196.783.358-32&x=1", "doc=***.***.***-32&x=1"),
    # CNPJ, digits and the 2026 alphanumeric format.
    ("cnpj 11.222.333/0001-81", "cnpj **.***.***/****-81"),
    ("11222333000181", "**.***.***/****-81"),
    ("empresa 12.ABC.345/01DE-35", "empresa **.***.***/****-35"),
    # E-mail: first character and domain kept.
    ("maria.silva@example.com", "m***@example.com"),
    ("Contato: JOAO_99@mail.empresa.com.br.", "Contato: J***@mail.empresa.com.br."),
    ("12345678909@example.com", "1***@example.com"),
    # Phones: DDD (and country code) plus the last 2 digits kept.
    ("+55 11 98805-6887", "+55 11 *****-**87"),
    ("(11) 988056887", "(11) *******87"),
    ("11988056887", "11*******87"),
    ("5511988056887", "5511*******87"),
    ("tel:+5511988056887", "tel:+5511*******87"),
    ("(21) 3333-4444", "(21) ****-**44"),
    ("11 3333 4444", "11 **** **44"),
    # Secrets.
    ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
    ("sent Bearer abcdef123 upstream", "sent Bearer *** upstream"),
    ("basic dXNlcjpwYXNz", "basic ***"),
    (
        "tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x end",
        "tok *** end",
    ),
    ("name=acme&password=hunter2&x=1", "name=acme&password=***&x=1"),
    ('{"Password": "s3cret", "Username": "acme"}', '{"Password": "***", "Username": "acme"}'),
    ("senha: abc123", "senha: ***"),
    ("api_key=XYZ client_secret=abc", "api_key=*** client_secret=***"),
    ("x-api-key: k1", "x-api-key: ***"),
    ('{"token": "opaque-legacy-token"}', '{"token": "***"}'),
    # Every spelling of a secret name of the field table.
    ("accessToken=abc refresh-token=def", "accessToken=*** refresh-token=***"),
    ("Set-Cookie: sid=1", "Set-Cookie: ***"),
    ('{"clientSecret": "x"}', '{"clientSecret": "***"}'),
]

UNTOUCHED_TEXT = [
    "12345678900",  # 11 digits, invalid check digits: an order number, not a CPF
    "order 123.456.789-00 shipped",
    "11222333000182",  # CNPJ with a wrong check digit
    "1732268400",  # Unix time: bare 10 digits are not taken for a landline
    "1732268400123",
    "2026-11-22T10:00:00.000Z",
    "2b0c6a0e-5f1d-4c1e-9d7a-0b1c2d3e4f50",
    "POST /products/v1/datatrust 201 in 3.2 ms score 73.71",
    "HTTP/1.1 201 Created",
    "insight GER2100 relevance Alerta",
    "the key was accepted",  # a key word without a value
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED_TEXT)
def test_mask_text_masks(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", UNTOUCHED_TEXT)
def test_mask_text_leaves_non_personal_text_alone(text: str) -> None:
    assert mask_text(text) == text


def test_mask_text_mixed_sentence() -> None:
    text = (
        "Maria (maria@example.com, CPF 123.456.789-09, tel (11) 98805-6887) "
        "got Bearer eyJhbGciOi.eyJzdWIi.c2ln on 11.222.333/0001-81"
    )
    assert mask_text(text) == (
        "Maria (m***@example.com, CPF ***.***.***-09, tel (11) *****-**87) "
        "got Bearer *** on **.***.***/****-81"
    )


def test_mask_text_is_idempotent() -> None:
    once = mask_text(MASKED_TEXT[0][0] + " " + MASKED_TEXT[10][0])
    assert mask_text(once) == once


# --- find_personal_data ------------------------------------------------------------------

FOUND_KINDS: list[tuple[str, list[PersonalDataKind]]] = [
    ("cpf 123.456.789-09 ok", ["cpf"]),
    ("12345678909", ["cpf"]),
    ("cnpj 11.222.333/0001-81", ["cnpj"]),
    ("empresa 12.ABC.345/01DE-35", ["cnpj"]),
    ("maria.silva@example.com", ["email"]),
    # An e-mail made of digits is an e-mail, not also a CPF (the rule order of mask_text).
    ("12345678909@example.com", ["email"]),
    ("+55 11 98805-6887", ["phone"]),
    ("11988056887 and (21) 3333-4444", ["phone", "phone"]),
    ("sent Bearer abcdef123 upstream", ["bearer"]),
    ("tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_x end", ["jwt"]),
    # A credential under a key is consumed by the key/value rule: one secret, not a bearer too.
    ("Authorization: Bearer abc.def.ghi", ["secret"]),
    ("name=acme&password=hunter2", ["secret"]),
    ('{"token": "opaque-legacy-token"}', ["secret"]),
    (
        "Maria (maria@example.com, CPF 123.456.789-09, tel (11) 98805-6887) got Bearer x1 on 11222333000181",
        # Rule order first, then numbers in the order they appear.
        ["bearer", "email", "cpf", "phone", "cnpj"],
    ),
]

# What mask_text leaves alone or has already masked: nothing to report.
FOUND_NOTHING = [
    *UNTOUCHED_TEXT,
    "cpf ***.***.***-09 ok",
    "m***@example.com",
    "+55 11 *****-**87",
    "Bearer ***",
    "password=***",
    '{"token": "***"}',
    "**.***.***/****-81",
    "tok *** end",
]


@pytest.mark.parametrize(("text", "kinds"), FOUND_KINDS)
def test_find_personal_data_names_each_kind(text: str, kinds: list[PersonalDataKind]) -> None:
    assert find_personal_data(text) == kinds


@pytest.mark.parametrize("text", FOUND_NOTHING)
def test_find_personal_data_reports_nothing_in_clean_or_masked_text(text: str) -> None:
    assert find_personal_data(text) == []


@pytest.mark.parametrize(("text", "expected"), MASKED_TEXT)
def test_what_mask_text_masks_is_found_and_its_output_is_clean(text: str, expected: str) -> None:
    # Detection and masking are one rule set: every masked example is reported, and the
    # masked form reports nothing (the log scan relies on both).
    assert find_personal_data(text)
    assert find_personal_data(expected) == []


def test_find_personal_data_kinds_are_the_declared_ones() -> None:
    found = {kind for text, _ in FOUND_KINDS for kind in find_personal_data(text)}
    assert found == set(PERSONAL_DATA_KINDS)


@given(text=st.text(alphabet=string.digits + string.ascii_letters + " .-/()+@:=", max_size=60))
def test_find_personal_data_is_empty_exactly_when_mask_text_changes_nothing(text: str) -> None:
    assert (find_personal_data(text) == []) == (mask_text(text) == text)
    assert find_personal_data(mask_text(text)) == []


# --- property: no valid CPF survives ------------------------------------------------------------


# A CPF is a CPF when it is not glued to other digits: "512345678909" is a 12-digit id.
_before = st.text().filter(lambda s: not s or s[-1] not in string.digits)
_after = st.text().filter(lambda s: not s or s[0] not in string.digits)


@given(base=cpf_bases, before=_before, after=_after, punctuated=st.booleans())
def test_no_valid_cpf_survives_in_any_text(base: str, before: str, after: str, punctuated: bool) -> None:
    cpf = valid_cpf(base)
    written = formatted(cpf) if punctuated else cpf
    masked = mask_text(before + written + after)
    assert cpf not in masked
    assert written not in masked


@pytest.mark.parametrize("name", names_of("secret"))
def test_every_secret_name_of_the_field_table_is_masked_in_text(name: str) -> None:
    # The cheap guard must let each one through to the rule, or it is never masked.
    assert any(word in name for word in KEY_WORDS)
    assert mask_text(f"{name}=s3cr3t") == f"{name}=***"
