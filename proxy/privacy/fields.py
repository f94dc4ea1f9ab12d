"""The one table of personal fields: which field *names* hold which kind of personal data.

Masking by field (``proxy.privacy.masking``) and pseudonyms (``proxy.privacy.pseudonyms``)
both read this table and nothing else, so a field added here is masked in logs and
pseudonymised in replay corpora at once. Names are compared case-insensitively with
``_`` and ``-`` ignored: ``CustomerName``, ``customer_name`` and ``customer-name`` are
one name, and the legacy contracts, PDT's wire and log keys all meet in one table.

Why names and not contract paths: masking runs on every log line, on PDT bodies and
on headers, from the first import on, long before (and independently of) the
operator's mappings directory being loaded; a field the operator's files forgot
must still be masked. The contracts' own ``format: cpf|cnpj|email`` declarations are
checked against this table by the tests, so the two cannot drift.

``areaCode``/``DDD``/``countryCode``, cities and states are not here: they locate a
region, not a person, and a DDD is what makes a phone mismatch explainable.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final, Literal, get_args

__all__ = [
    "FIELD_KINDS",
    "NOT_PERSONAL_IN_ADDRESS",
    "PERSONAL_FIELDS",
    "FieldKind",
    "field_kind",
    "is_address",
    "names_of",
    "normalise",
]

FieldKind = Literal[
    "document",  # a CPF or a CNPJ (told apart by length)
    "name",
    "email",
    "phone",  # a whole phone, or a subscriber number without its DDD
    "birthdate",
    "address",  # a street line, complement, district
    "zipcode",
    "secret",  # passwords, tokens, keys, cookies
    "code",  # ``value``: a 2FA code when it is a digit string, else a score or a rating
]
FIELD_KINDS: Final[tuple[FieldKind, ...]] = get_args(FieldKind)


def _kind(kind: FieldKind, *names: str) -> dict[str, FieldKind]:
    return dict.fromkeys(names, kind)


PERSONAL_FIELDS: Final[Mapping[str, FieldKind]] = {
    **_kind("document", "document", "cpf", "cnpj", "secondarydocument", "ownerdocument", "documentnumber"),
    **_kind("name", "name", "mothersname", "mothername", "fathersname", "ownername", "customername",
            "fullname", "firstname", "lastname", "socialname"),
    **_kind("email", "email", "emailaddress"),
    **_kind("phone", "phone", "phones", "phonenumber", "number", "mobile", "mobilephone", "cellphone",
            "telephone"),
    **_kind("birthdate", "birthdate", "dateofbirth", "birthday", "dob"),
    **_kind("address", "street", "address", "addressline", "complement", "district", "neighborhood",
            "neighbourhood"),
    **_kind("zipcode", "zipcode", "cep", "postalcode"),
    **_kind("secret", "password", "passwd", "pwd", "senha", "secret", "clientsecret", "token",
            "accesstoken", "refreshtoken", "authorization", "cookie", "setcookie", "apikey", "xapikey"),
    **_kind("code", "value"),
}  # fmt: skip

# An object holding one of these is an address (``{"Street": ..., "Number": "1500"}``),
# and inside an address the names below are not the kind the table gives them: a
# street ``Number`` is not a phone. A ``ZipCode`` alone does not make an address: the
# legacy requests carry one at the top level beside the person's phone.
_ADDRESS_MARKERS: Final = frozenset({"street", "streetname", "addressline"})
NOT_PERSONAL_IN_ADDRESS: Final = frozenset({"number"})


@lru_cache(maxsize=4096)
def normalise(name: str) -> str:
    """``name`` as the table spells it. Bounded cache: keys come from a few contracts,
    but a hostile body could send many."""
    return name.casefold().replace("_", "").replace("-", "")


def names_of(kind: FieldKind) -> tuple[str, ...]:
    """The table's names of ``kind`` (normalised), for rules that look for them in free text."""
    return tuple(name for name, named in PERSONAL_FIELDS.items() if named == kind)


def is_address(data: Mapping[Any, object]) -> bool:
    """``data`` is an address: it has a street."""
    return any(isinstance(name, str) and normalise(name) in _ADDRESS_MARKERS for name in data)


def field_kind(name: str, parent: Mapping[Any, object] | None = None) -> FieldKind | None:
    """The kind of personal data held under ``name`` in ``parent`` (None: not a personal field).

    Without ``parent`` (a lone value), a name that is personal somewhere is taken as
    personal: masking too much is the safe side.
    """
    normal = normalise(name)
    if normal in NOT_PERSONAL_IN_ADDRESS and parent is not None and is_address(parent):
        return None
    return PERSONAL_FIELDS.get(normal)
