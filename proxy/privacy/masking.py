"""Masking structured data by field name: logs, shadow differences, reports.

A name is surer than a shape (a ``Name`` has no recognisable shape, a subscriber
number without its DDD looks like any 9-digit id), so each field the table in
``proxy.privacy.fields`` names is masked by its kind; every other string falls back
to free-text scrubbing (``proxy.privacy.scrub``).

==========  ==============================================================
kind        masked as
==========  ==============================================================
document    CPF / CNPJ shape keeping only the check digits; else ``***``
name        ``***``
email       ``m***@example.com``
phone       DDD and country code kept, all but the last 2 subscriber digits
            starred; a bare subscriber keeps its last 2 (``*******87``)
birthdate   ``***``
address     ``***`` (an ``address`` *object* is walked field by field)
zipcode     first 5 digits (``06454***``)
secret      ``***``
code        ``***`` when it is a digit string (a 2FA code); scores, ratings
            and words are kept
==========  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any, Final

from proxy.privacy.fields import NOT_PERSONAL_IN_ADDRESS, PERSONAL_FIELDS, FieldKind, field_kind, normalise
from proxy.privacy.scrub import mask_text
from proxy.privacy.shapes import (
    DOCUMENT_PUNCTUATION,
    EMAIL,
    MASK,
    NOT_DIGIT,
    PHONE,
    masked_cnpj,
    masked_cpf,
    masked_email,
    starred_subscriber,
)

__all__ = ["mask_mapping", "mask_value"]

_Rule = Callable[[object], object]


def _redact(_value: object) -> object:
    return MASK


def _mask_document(value: object) -> object:
    # By name, not by check digits: a mistyped CPF under ``Document`` is still a person's.
    compact = DOCUMENT_PUNCTUATION.sub("", str(value)).upper()
    if len(compact) == 11 and compact.isdigit():
        return masked_cpf(compact)
    if len(compact) == 14 and compact.isascii() and compact.isalnum() and compact[-2:].isdigit():
        return masked_cnpj(compact)
    return MASK


def _mask_email(value: object) -> object:
    match = EMAIL.fullmatch(str(value).strip())
    return masked_email(match) if match else MASK


def _mask_phone(value: object) -> object:
    text = str(value).strip()
    match = PHONE.fullmatch(text)
    if match:
        return f"{match['prefix']}{starred_subscriber(match['subscriber'])}"
    # A subscriber number without its DDD.
    return starred_subscriber(text) if any(c.isdigit() for c in text) else MASK


def _mask_zip(value: object) -> object:
    digits = NOT_DIGIT.sub("", str(value))
    return f"{digits[:5]}***" if len(digits) == 8 else MASK


def _mask_code(value: object) -> object:
    # ``value`` carries 2FA codes ("123456") but also scores (73.71) and ratings
    # ("High"): only a digit string is a secret; the others are what comparisons read.
    if isinstance(value, str):
        return MASK if value.strip().isdigit() else mask_text(value)
    return value


_MASKERS: Final[Mapping[FieldKind, _Rule]] = {
    "document": _mask_document,
    "name": _redact,
    "email": _mask_email,
    "phone": _mask_phone,
    "birthdate": _redact,
    "address": _redact,
    "zipcode": _mask_zip,
    "secret": _redact,
    "code": _mask_code,
}


# The table by name, resolved once: the walk below runs on every log line.
_FIELD_RULES: Final[Mapping[str, _Rule]] = {name: _MASKERS[kind] for name, kind in PERSONAL_FIELDS.items()}


def _mask_scalar(value: object) -> object:
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # A CPF sent as a JSON number is still a CPF; short numbers cannot be one.
        if abs(value) < 10**9:
            return value
        text = str(value)
        masked = mask_text(text)
        return value if masked == text else masked
    # Anything not JSON-native (an exception, an httpx URL, a datetime) is rendered
    # and masked as text, so a repr cannot smuggle a value past the masking.
    return mask_text(value if isinstance(value, str) else str(value))


# Field names repeat endlessly (every log line has "event", "tenant", ...): their
# masked form is cached. Bounded, because a hostile body can invent names.
_mask_key = lru_cache(maxsize=4096)(mask_text)


def _walk(data: object, drop: frozenset[str]) -> Any:
    # Concrete types first: the ABC check for Mapping is several times slower.
    if isinstance(data, str):
        return mask_text(data)
    if isinstance(data, dict) or (not isinstance(data, list | tuple) and isinstance(data, Mapping)):
        return {
            (_mask_key(key) if isinstance(key, str) else key): _field(key, item, drop, data)
            for key, item in data.items()
            if not (isinstance(key, str) and normalise(key) in drop)
        }
    if isinstance(data, list | tuple):
        return [_walk(item, drop) for item in data]
    return _mask_scalar(data)


def _field(key: object, value: object, drop: frozenset[str], parent: Mapping[Any, object] | None) -> Any:
    rule = None
    if isinstance(key, str):
        normal = normalise(key)
        rule = _FIELD_RULES.get(normal)
        if normal in NOT_PERSONAL_IN_ADDRESS and field_kind(normal, parent) is None:
            rule = None  # a street Number
    if rule is None or isinstance(value, dict | Mapping):
        # Objects are walked field by field even under a known name: ``Phone`` is
        # {CountryCode, AreaCode, Number} and its AreaCode is worth keeping.
        return _walk(value, drop)
    if isinstance(value, list | tuple):
        # ``Phones: ["11988056887", ...]`` gets the phone rule per element.
        return [_field(key, item, drop, parent) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return rule(value)


def mask_value(key: str, value: object) -> object:
    """Mask ``value`` as the field called ``key`` deserves (see the table above).

    With no object around it, a name that is personal anywhere (``Number``) is
    masked as such.
    """
    return _field(key, value, frozenset(), None)


def mask_mapping(data: Any, *, drop: Collection[str] = ()) -> Any:
    """Masked deep copy of JSON-like ``data``; keys named in ``drop`` are removed.

    ``drop`` names are compared like field names (case-insensitive, ``_``/``-``
    ignored) at every depth: logs drop ``Authorization`` headers rather than star them.
    """
    return _walk(data, _normalised_names(frozenset(drop)))


@lru_cache(maxsize=64)
def _normalised_names(names: frozenset[str]) -> frozenset[str]:
    # Callers pass the same few constant sets on every call (the logging drop list).
    return frozenset(normalise(name) for name in names)
