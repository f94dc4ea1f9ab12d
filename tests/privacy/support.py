"""Valid CPFs for the property tests, built from stdnum's public validator."""

from __future__ import annotations

import string

from hypothesis import strategies as st
from stdnum.br import cpf as stdnum_cpf

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def valid_cpf(base: str) -> str:
    # stdnum's public API validates; the check digits are the one suffix it accepts.
    return next(base + f"{d:02d}" for d in range(100) if stdnum_cpf.is_valid(base + f"{d:02d}"))


def formatted(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


cpf_bases = st.text(alphabet=string.digits, min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1)
