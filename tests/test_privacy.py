"""proxy.privacy: what is masked, what is left alone, and that nothing personal survives."""

from __future__ import annotations

import re
import string
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from proxy.privacy import (
    MASK,
    PERSONAL_DATA_KINDS,
    PLACEHOLDER_ADDRESS,
    PLACEHOLDER_BIRTHDATE,
    PLACEHOLDER_NAME,
    PersonalDataKind,
    cpf_check_digits,
    find_personal_data,
    mask_mapping,
    mask_text,
    mask_value,
    pseudonym,
    pseudonymise_mapping,
    pseudonymous_cnpj,
    pseudonymous_cpf,
    pseudonymous_email,
    pseudonymous_phone,
    secret_fields,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


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


# --- property: no valid CPF survives ------------------------------------------------------------


def _valid_cpf(base: str) -> str:
    # stdnum's public API validates; the check digits are the one suffix it accepts.
    return next(base + f"{d:02d}" for d in range(100) if stdnum_cpf.is_valid(base + f"{d:02d}"))


def _formatted(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


_cpf_bases = st.text(alphabet=string.digits, min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
# A CPF is a CPF when it is not glued to other digits: "512345678909" is a 12-digit id.
_before = st.text().filter(lambda s: not s or s[-1] not in string.digits)
_after = st.text().filter(lambda s: not s or s[0] not in string.digits)


@given(base=_cpf_bases, before=_before, after=_after, punctuated=st.booleans())
def test_no_valid_cpf_survives_in_any_text(base: str, before: str, after: str, punctuated: bool) -> None:
    cpf = _valid_cpf(base)
    written = _formatted(cpf) if punctuated else cpf
    masked = mask_text(before + written + after)
    assert cpf not in masked
    assert written not in masked


# --- structured pseudonyms (replay corpora) ------------------------------------------------------


@given(base=_cpf_bases, punctuated=st.booleans())
def test_pseudonymous_cpf_is_another_valid_cpf_in_the_same_shape(base: str, punctuated: bool) -> None:
    cpf = _valid_cpf(base)
    written = _formatted(cpf) if punctuated else cpf
    result = pseudonymous_cpf(written, key=KEY)
    digits = re.sub(r"\D", "", result)
    assert stdnum_cpf.is_valid(digits)
    assert digits != cpf
    assert re.sub(r"\d", "0", result) == re.sub(r"\d", "0", written)  # punctuation kept
    assert pseudonymous_cpf(cpf, key=KEY) == digits  # one person, however written


@given(base=_cpf_bases)
def test_cpf_check_digits_agree_with_stdnum(base: str) -> None:
    assert stdnum_cpf.is_valid(base + cpf_check_digits(base))


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
