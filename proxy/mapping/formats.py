"""The JSON Schema ``format`` names the contracts may use, each one pure predicate.

The contract validator (``proxy.mapping.schemas``) checks ``format`` with this
registry alone, replacing its built-in checks. A schema that names a format
outside it is refused at startup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Final

from stdnum.br import cnpj, cpf

__all__ = ["FORMATS", "is_cnpj", "is_cpf", "strip_document"]

_DOCUMENT_PUNCTUATION = re.compile(r"[.\-/\s]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCAL_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")


def strip_document(value: str) -> str:
    """``123.456.789-09`` → ``12345678909``: the punctuation legacy clients may send."""
    return _DOCUMENT_PUNCTUATION.sub("", value)


def is_cpf(value: str) -> bool:
    digits = strip_document(value)
    # 111.111.111-11 and its kin pass the check-digit arithmetic but are never
    # issued; python-stdnum rejects only the all-zero one.
    return len(digits) == 11 and digits.isdigit() and len(set(digits)) > 1 and bool(cpf.is_valid(digits))


def is_cnpj(value: str) -> bool:
    digits = strip_document(value)
    return len(digits) == 14 and digits.isdigit() and bool(cnpj.is_valid(digits))


def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        if not pattern.match(value):
            return False
        try:
            # Python before 3.11 rejects 7 fractional digits; 3.11+ accepts them.
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True

    return check


def _is_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def _strings_only(predicate: Callable[[str], bool]) -> Callable[[object], bool]:
    # JSON Schema applies "format" to strings only; other types are the "type"
    # keyword's business.
    def check(value: object) -> bool:
        return not isinstance(value, str) or predicate(value)

    return check


def _is_date_or_datetime(value: str) -> bool:
    # The older ASP.NET Web API family bound DateTime from a bare date or a full
    # timestamp, with or without an offset; the proxy accepts what it accepted.
    return _is_date(value) or _is_datetime(_LOCAL_DATE_TIME)(value) or _is_datetime(_DATE_TIME)(value)


FORMATS: Final[Mapping[str, Callable[[object], bool]]] = {
    "cpf": _strings_only(is_cpf),
    "cnpj": _strings_only(is_cnpj),
    "date": _strings_only(_is_date),
    "date-time": _strings_only(_is_datetime(_DATE_TIME)),
    "local-date-time": _strings_only(_is_datetime(_LOCAL_DATE_TIME)),
    "date-or-date-time": _strings_only(_is_date_or_datetime),
    "email": _strings_only(_is_email),
}
