"""The JSON Schema format registry: CPF/CNPJ check digits, dates, e-mail."""

from __future__ import annotations

import pytest

from proxy.mapping.formats import FORMATS, is_cnpj, is_cpf, strip_document

from .support import make_cnpj, make_cpf, punctuate_cnpj, punctuate_cpf

CPF = make_cpf("529982247")
CNPJ = make_cnpj("112223330001")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param(CPF, True, id="digits"),
        pytest.param(punctuate_cpf(CPF), True, id="punctuated"),
        pytest.param(f" {CPF[:3]} {CPF[3:6]} {CPF[6:9]} {CPF[9:]} ", True, id="spaces"),
        pytest.param(CPF[:-1] + str((int(CPF[-1]) + 1) % 10), False, id="wrong-last-digit"),
        pytest.param(CPF[:-2] + str((int(CPF[-2]) + 1) % 10) + CPF[-1], False, id="wrong-first-check-digit"),
        pytest.param(CPF[:-1], False, id="ten-digits"),
        pytest.param(CPF + "0", False, id="twelve-digits"),
        pytest.param("00000000000", False, id="zeros"),
        pytest.param(CPF[:3] + "a" + CPF[4:], False, id="letter"),
        pytest.param(CNPJ, False, id="a-cnpj"),
        pytest.param("", False, id="empty"),
        pytest.param(CPF[:3] + "_" + CPF[3:], False, id="underscore-is-not-punctuation"),
    ],
)
def test_cpf(value: str, valid: bool) -> None:
    assert is_cpf(value) is valid
    assert FORMATS["cpf"](value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param(CNPJ, True, id="digits"),
        pytest.param(punctuate_cnpj(CNPJ), True, id="punctuated"),
        pytest.param(CNPJ[:-1] + str((int(CNPJ[-1]) + 1) % 10), False, id="wrong-check-digit"),
        pytest.param(CNPJ[:-1], False, id="thirteen-digits"),
        pytest.param("00000000000000", False, id="zeros"),
        pytest.param("12ABC34501DE35", False, id="alphanumeric-not-accepted"),
        pytest.param(CPF, False, id="a-cpf"),
    ],
)
def test_cnpj(value: str, valid: bool) -> None:
    assert is_cnpj(value) is valid
    assert FORMATS["cnpj"](value) is valid


def test_strip_document() -> None:
    assert strip_document("123.456.789-09") == "12345678909"
    assert strip_document("11.222.333/0001-81") == "11222333000181"
    assert strip_document("1 2\t3") == "123"


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("value", [None, 12345678909, 1.5, True, [], {}], ids=repr)
def test_formats_ignore_non_strings(name: str, value: object) -> None:
    # "format" applies to strings only; the "type" keyword judges everything else.
    assert FORMATS[name](value) is True


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        pytest.param("date", "2024-02-29", True, id="date-leap-day"),
        pytest.param("date", "2023-02-29", False, id="date-not-leap"),
        pytest.param("date", "2024-2-9", False, id="date-unpadded"),
        pytest.param("date", "2024-02-29\n", False, id="date-trailing-newline"),
        pytest.param("date", "２０２４-02-29", False, id="date-fullwidth-digits"),
        pytest.param("date", "2024-02-29T00:00:00", False, id="date-with-time"),
        pytest.param("date-time", "2026-11-22T10:00:00Z", True, id="dt-z"),
        pytest.param("date-time", "2026-11-22T10:00:00.1234567-03:00", True, id="dt-7-digits-offset"),
        pytest.param("date-time", "2026-11-22T10:00:00", False, id="dt-no-offset"),
        pytest.param("date-time", "2026-11-22T25:00:00Z", False, id="dt-hour-25"),
        pytest.param("date-time", "2026-11-22 10:00:00Z", False, id="dt-space"),
        pytest.param("local-date-time", "2026-11-22T10:00:00", True, id="ldt"),
        pytest.param("local-date-time", "2026-11-22T10:00:00.5", True, id="ldt-fraction"),
        pytest.param("local-date-time", "2026-11-22T10:00:00Z", False, id="ldt-with-z"),
        pytest.param("email", "maria@example.com.br", True, id="email"),
        pytest.param("email", "maria@example", False, id="email-no-dot"),
        pytest.param("email", "ma ria@example.com", False, id="email-space"),
        pytest.param("email", "a@b@c.com", False, id="email-two-ats"),
        pytest.param("email", "x" * 65 + "@example.com", False, id="email-local-part-too-long"),
        pytest.param("email", "x@" + "d" * 250 + ".com", False, id="email-too-long"),
    ],
)
def test_other_formats(name: str, value: str, valid: bool) -> None:
    assert FORMATS[name](value) is valid
