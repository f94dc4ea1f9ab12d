"""The shapes of personal data, shared by free-text scrubbing, masking and pseudonyms.

One definition of what an e-mail, a CPF, a CNPJ or a Brazilian phone *looks like*,
so the log scrubber, the field masker and the replay pseudonymiser cannot disagree
about which string is which. How each is *recognised* as genuine (check digits) is
``proxy.privacy.documents``.
"""

from __future__ import annotations

import re
from typing import Final

MASK: Final = "***"

EMAIL: Final = re.compile(
    r"(?P<first>[A-Za-z0-9_%+-])[A-Za-z0-9._%+-]{0,63}"
    r"@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
    re.ASCII,
)
CNPJ: Final = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"\d{14}"
    r"|[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}"
    r"|\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}"
    r")(?![0-9A-Za-z])",
    re.ASCII,
)
CPF: Final = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}[-.]?\d{2}(?!\d)", re.ASCII)
# Optional +55/55, a DDD, then a subscriber: 9 digits starting with 9 (mobile) or 8
# starting with 2-5 (landline).
PHONE: Final = re.compile(
    r"(?<![\d+])"
    r"(?P<prefix>(?:\+?55[\s-]?)?\(?0?[1-9][1-9]\)?[\s-]?)"
    r"(?P<subscriber>9\d{4}[\s.-]?\d{4}|[2-5]\d{3}[\s.-]?\d{4})"
    r"(?!\d)",
    re.ASCII,
)
NOT_DIGIT: Final = re.compile(r"\D", re.ASCII)
DOCUMENT_PUNCTUATION: Final = re.compile(r"[\s./-]")
_DIGIT_BUT_LAST_TWO: Final = re.compile(r"\d(?=(?:\D*\d){2})", re.ASCII)


def masked_cpf(digits: str) -> str:
    """A CPF with only its check digits left: enough to tell two documents apart."""
    return f"***.***.***-{digits[-2:]}"


def masked_cnpj(compact: str) -> str:
    return f"**.***.***/****-{compact[-2:]}"


def masked_email(match: re.Match[str]) -> str:
    """An ``EMAIL`` match with its first character and domain kept."""
    return f"{match['first']}{MASK}@{match['domain']}"


def starred_subscriber(subscriber: str) -> str:
    # Keep punctuation so the reader still sees "a phone", and the last two digits
    # so two phones in one record can be told apart.
    return _DIGIT_BUT_LAST_TWO.sub("*", subscriber)
