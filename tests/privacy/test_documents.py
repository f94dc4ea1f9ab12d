"""proxy.privacy.documents: CPF/CNPJ check digits agree with stdnum's validators."""

from __future__ import annotations

import string
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.br import cnpj as stdnum_cnpj
from stdnum.br import cpf as stdnum_cpf

from proxy.privacy.documents import cnpj_check_digits, cpf_check_digits, is_cnpj, is_cpf
from tests.privacy.support import cpf_bases

_cnpj_bases = st.text(alphabet=string.digits + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12).filter(
    lambda s: len(set(s)) > 1
)


@given(base=cpf_bases)
def test_cpf_check_digits_make_a_valid_cpf(base: str) -> None:
    cpf = base + cpf_check_digits(base)
    assert stdnum_cpf.is_valid(cpf)
    assert is_cpf(cpf)


@given(base=_cnpj_bases)
def test_cnpj_check_digits_make_a_valid_cnpj(base: str) -> None:
    cnpj = base + cnpj_check_digits(base)
    assert stdnum_cnpj.is_valid(cnpj)
    assert is_cnpj(cnpj)


RECOGNISED: list[tuple[Callable[[str], bool], str, bool]] = [
    (is_cpf, "12345678909", True),
    (is_cpf, "12345678900", False),  # an order number with 11 digits
    (is_cnpj, "11222333000181", True),
    (is_cnpj, "11222333000182", False),
    (is_cnpj, "12ABC34501DE35", True),  # the 2026 alphanumeric format
]


@pytest.mark.parametrize(("recognise", "compact", "expected"), RECOGNISED)
def test_recognition(recognise: Callable[[str], bool], compact: str, expected: bool) -> None:
    assert recognise(compact) is expected
