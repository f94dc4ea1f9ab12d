"""Pseudonyms: keyed, irreversible stand-ins for personal values.

``pseudonym`` gives a keyed token (HMAC-SHA256) for the rare place that must
correlate the same person across records (replays, sticky canaries) without holding
the value itself (LGPD art. 13 §4: the key is the separately kept part).

``pseudonymise_mapping`` (replay corpora) replaces personal values by keyed
pseudonyms *of the same kind*, chosen by the table in ``proxy.privacy.fields``: a
valid CPF by another valid CPF, an e-mail by one at example.com, a phone by one of
the same shape, so a recorded request masked this way is still a valid legacy
request when it is replayed (see ``pseudonymous_cpf``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from proxy.privacy.documents import cnpj_check_digits, cpf_check_digits, is_cpf
from proxy.privacy.fields import FieldKind, field_kind
from proxy.privacy.scrub import mask_text
from proxy.privacy.shapes import CPF, DOCUMENT_PUNCTUATION, EMAIL, MASK, NOT_DIGIT, PHONE

__all__ = [
    "PLACEHOLDER_ADDRESS",
    "PLACEHOLDER_BIRTHDATE",
    "PLACEHOLDER_NAME",
    "pseudonym",
    "pseudonymise_mapping",
    "pseudonymous_cnpj",
    "pseudonymous_cpf",
    "pseudonymous_digits",
    "pseudonymous_email",
    "pseudonymous_phone",
    "secret_fields",
]

_PUNCTUATED_NUMBER = re.compile(r"[\d\s().+/-]+")
_MIN_KEY_BYTES = 16


def pseudonym(value: str, *, key: bytes) -> str:
    """A stable, irreversible token for ``value``: HMAC-SHA256 under ``key``, 16 hex chars.

    Documents and phones are reduced to their digits first, so ``123.456.789-09`` and
    ``12345678909`` are one person; other text is case-folded. The key is mandatory
    and at least 16 bytes: without it, a CPF's hash is reversed by trying all 10^9
    CPFs, which is not anonymisation (LGPD art. 5 XI).
    """
    _check_key(key)
    text = value.strip()
    if _PUNCTUATED_NUMBER.fullmatch(text) and any(c.isdigit() for c in text):
        text = NOT_DIGIT.sub("", text)
    else:
        text = text.casefold()
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


# --- structured pseudonyms (replay corpora) ------------------------------------------
#
# A recorded request must stay a *valid* legacy request after masking, or replaying
# it only exercises the error table. So instead of stars, each personal value is
# replaced by a value of the same kind and shape derived from an HMAC of the
# original under a key: the same CPF always becomes the same other valid CPF (in the
# request and in the answer that echoes it), e-mails become addresses at
# example.com, phones keep their DDD and first subscriber digit, names become one
# fixed placeholder. Without the key, a pseudonym cannot be traced back (LGPD art.
# 13 §4); with it, it can only be confirmed by trying candidates one by one.

PLACEHOLDER_NAME = "Fulano de Tal"
PLACEHOLDER_ADDRESS = "Rua Exemplo"
PLACEHOLDER_BIRTHDATE = "1980-01-01"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _check_key(key: bytes) -> None:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {_MIN_KEY_BYTES} bytes")


def _keyed_digits(kind: str, value: str, count: int, key: bytes) -> str:
    """``count`` decimal digits derived from ``value`` under ``key``, per ``kind``."""
    _check_key(key)
    digest = hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest, 'big') % 10**count:0{count}d}"


def _same_shape(original: str, digits: str) -> str:
    """``digits`` laid over the digit positions of ``original`` (punctuation kept)."""
    replacement = iter(digits)
    return "".join(next(replacement) if char.isdigit() else char for char in original)


def pseudonymous_cpf(value: str, *, key: bytes) -> str:
    """Another *valid* CPF derived from ``value`` under ``key``, in the same punctuation.

    Nine digits come from HMAC-SHA256 of the CPF's digits; the two check digits are
    then computed, so the result passes every check a legacy contract applies.
    ``123.456.789-09`` and ``12345678909`` give the same CPF (punctuated as given).
    A value that is not 11 digits is refused (``ValueError``): see
    ``pseudonymous_digits`` for documents that are not CPFs.
    """
    digits = NOT_DIGIT.sub("", value)
    if len(digits) != 11:
        raise ValueError("a CPF has 11 digits")
    base = _keyed_digits("cpf", digits, 9, key)
    if len(set(base)) == 1:
        # 000.000.000-00 ... 999.999.999-99 pass the mod-11 rule (and stdnum) but the
        # Receita issues none and legacy validators refuse them; one base in 10^8 lands here.
        base = base[:-1] + str((int(base[-1]) + 1) % 10)
    return _same_shape(value, base + cpf_check_digits(base))


def pseudonymous_cnpj(value: str, *, key: bytes) -> str:
    """Another valid (numeric) CNPJ derived from ``value`` under ``key``, same punctuation."""
    digits = NOT_DIGIT.sub("", value)
    if len(digits) != 14:
        raise ValueError("a numeric CNPJ has 14 digits")
    base = _keyed_digits("cnpj", digits, 12, key)
    return _same_shape(value, base + cnpj_check_digits(base))


def pseudonymous_digits(value: str, *, key: bytes, keep: int = 0) -> str:
    """The digits of ``value`` after the first ``keep`` replaced by keyed ones; shape kept."""
    digits = NOT_DIGIT.sub("", value)
    kept = digits[:keep]
    return _same_shape(value, kept + _keyed_digits("digits", digits, len(digits) - len(kept), key))


def pseudonymous_email(value: str, *, key: bytes) -> str:
    """``u<12 hex>@example.com`` from the case-folded address: one person, one address."""
    return f"u{pseudonym(value, key=key)[:12]}@example.com"


def pseudonymous_phone(value: str, *, key: bytes) -> str:
    """A phone of the same shape: country code, DDD and the subscriber's first two digits kept.

    The subscriber's digits alone feed the hash, so ``11988056887`` and a separate
    ``AreaCode: 11`` + ``Number: 988056887`` give the same subscriber pseudonym.
    Anything else with digits gets keyed digits of its length.
    """
    match = PHONE.fullmatch(value.strip())
    if match is not None:
        return f"{match['prefix']}{_pseudo_subscriber(match['subscriber'], key)}"
    digits = NOT_DIGIT.sub("", value)
    if len(digits) in (8, 9):
        return _pseudo_subscriber(value, key)  # a subscriber without its DDD
    return pseudonymous_digits(value, key=key) if digits else value


def _pseudo_subscriber(subscriber: str, key: bytes) -> str:
    # The first two digits stay: they say mobile (9 then 6-9) or landline (2-5), which
    # contracts check (Mobile Trust refuses ``90...``), and they say nothing of the person.
    digits = NOT_DIGIT.sub("", subscriber)
    return _same_shape(subscriber, digits[:2] + _keyed_digits("phone", digits, len(digits) - 2, key))


def _pseudo_document(value: object, key: bytes) -> object:
    text = str(value)
    digits = NOT_DIGIT.sub("", text)
    if len(digits) == 11 and len(DOCUMENT_PUNCTUATION.sub("", text)) == 11:
        result = pseudonymous_cpf(text, key=key)
    elif len(digits) == 14 and len(DOCUMENT_PUNCTUATION.sub("", text)) == 14:
        result = pseudonymous_cnpj(text, key=key)
    elif digits:
        result = pseudonymous_digits(text, key=key)
    else:
        return PLACEHOLDER_NAME if text.strip() else value
    return int(result) if isinstance(value, int) else result


def _pseudo_phone(value: object, key: bytes) -> object:
    result = pseudonymous_phone(str(value), key=key)
    return int(result) if isinstance(value, int) else result


def _pseudo_email(value: object, key: bytes) -> object:
    return pseudonymous_email(str(value), key=key) if str(value).strip() else value


def _pseudo_name(value: object, _key: bytes) -> object:
    return PLACEHOLDER_NAME if isinstance(value, str) and value.strip() else value


def _pseudo_address(value: object, _key: bytes) -> object:
    return PLACEHOLDER_ADDRESS if isinstance(value, str) and value.strip() else value


def _pseudo_birthdate(value: object, _key: bytes) -> object:
    text = str(value)
    if _ISO_DATE.match(text):
        return PLACEHOLDER_BIRTHDATE + text[10:]  # a time part, if any, keeps its shape
    return MASK


def _pseudo_zip(value: object, _key: bytes) -> object:
    text = str(value)
    digits = NOT_DIGIT.sub("", text)
    if len(digits) != 8:
        return MASK
    return _same_shape(text, digits[:5] + "000")  # the CEP's sector, not the street


def _pseudo_secret(value: object, _key: bytes) -> object:
    return MASK


def _pseudo_code(value: object, _key: bytes) -> object:
    # A 2FA code becomes zeros of its length: the request stays well-formed, the code
    # is gone. Scores and rating labels under ``value`` are kept.
    if isinstance(value, str) and value.strip().isdigit():
        return "0" * len(value.strip())
    return value


def _pseudo_text(value: str, key: bytes) -> str:
    """A string under a name with no rule: whole CPFs and e-mails get pseudonyms, the rest
    is masked by shape (a CPF inside a sentence loses its digits as in logs)."""
    text = value.strip()
    if CPF.fullmatch(text) and is_cpf(NOT_DIGIT.sub("", text)):
        return pseudonymous_cpf(value, key=key)
    if EMAIL.fullmatch(text):
        return pseudonymous_email(value, key=key)
    return mask_text(value)


_PseudoRule = Callable[[object, bytes], object]

_PSEUDONYMISERS: Final[Mapping[FieldKind, _PseudoRule]] = {
    "document": _pseudo_document,
    "name": _pseudo_name,
    "email": _pseudo_email,
    "phone": _pseudo_phone,
    "birthdate": _pseudo_birthdate,
    "address": _pseudo_address,
    "zipcode": _pseudo_zip,
    "secret": _pseudo_secret,
    "code": _pseudo_code,
}


def _pseudo_walk(data: object, key: bytes) -> Any:
    if isinstance(data, str):
        return _pseudo_text(data, key)
    if isinstance(data, dict):
        return {name: _pseudo_field(name, item, key, data) for name, item in data.items()}
    if isinstance(data, list | tuple):
        return [_pseudo_walk(item, key) for item in data]
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) >= 10**9:
        masked = _pseudo_text(str(data), key)
        return int(masked) if masked.isdigit() else masked
    return data


def _pseudo_field(name: object, value: object, key: bytes, parent: Mapping[Any, object]) -> Any:
    kind = field_kind(name, parent) if isinstance(name, str) else None
    if kind is None or isinstance(value, dict):
        return _pseudo_walk(value, key)
    if isinstance(value, list | tuple):
        return [_pseudo_field(name, item, key, parent) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    return _PSEUDONYMISERS[kind](value, key)


def pseudonymise_mapping(data: Any, *, key: bytes) -> Any:
    """A deep copy of JSON-like ``data`` with every personal value replaced by a keyed
    pseudonym of the same kind and shape (see the comment above ``PLACEHOLDER_NAME``).

    Field names follow ``proxy.privacy.fields``; secrets become ``***``; 2FA codes
    under ``value`` become zeros. Deterministic: the same input and key give the
    same output, so a document in a request and its echo in the answer agree.
    """
    _check_key(key)
    return _pseudo_walk(data, key)


def secret_fields(data: Any, *, prefix: str = "") -> tuple[str, ...]:
    """Dotted paths of the fields in ``data`` whose value ``pseudonymise_mapping`` drops as
    a secret or a one-time code: a request holding one cannot be replayed faithfully."""
    found: list[str] = []
    if isinstance(data, dict):
        for name, value in data.items():
            path = f"{prefix}.{name}" if prefix else str(name)
            kind = field_kind(name, data) if isinstance(name, str) else None
            if kind in ("secret", "code") and not isinstance(value, dict | list) and value is not None:
                if kind == "secret" or _pseudo_code(value, b"") != value:
                    found.append(path)
            else:
                found.extend(secret_fields(value, prefix=path))
    elif isinstance(data, list):
        for item in data:
            found.extend(secret_fields(item, prefix=f"{prefix}[]"))
    return tuple(found)
