"""CPF and CNPJ check digits, from ``stdnum`` (the Receita Federal's mod-11 rules).

Recognition (is this digit run a real document, or an order number that happens to
have 11 digits?) and generation (the check digits of a pseudonymous document) both
come from the one library, so a pseudonym always passes the recogniser and a legacy
contract's own check.
"""

from __future__ import annotations

from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

__all__ = ["cnpj_check_digits", "cpf_check_digits", "is_cnpj", "is_cpf"]


def is_cpf(compact: str) -> bool:
    """``compact`` (digits only) is a CPF with valid check digits."""
    return bool(_cpf.is_valid(compact))


def is_cnpj(compact: str) -> bool:
    """``compact`` (no punctuation; letters allowed, 2026 format) is a valid CNPJ."""
    return bool(_cnpj.is_valid(compact))


def cpf_check_digits(base: str) -> str:
    """The two check digits of a nine-digit CPF base."""
    # stdnum 2.2 (pinned) computes them but names the function as private; the
    # property test beside this module checks every result with ``is_valid``, so a
    # rename in an upgrade fails the suite instead of producing invalid CPFs.
    return str(_cpf._calc_check_digits(base))


def cnpj_check_digits(base: str) -> str:
    """The two check digits of a twelve-character CNPJ base."""
    return str(_cnpj.calc_check_digits(base))
