"""Free-text scrubbing: personal data found by its *shape* in log messages, exception
text, URLs and reprs, where no field name says what a value is.

``find_personal_data`` reports the *kind* of each value ``mask_text`` would mask
(never the value), from the same rules, for checks such as the test suite's log scan.

Rules, applied in this order (earlier rules consume what later ones might misread,
e.g. an e-mail local part made of digits is not taken for a CPF):

==================  ===========================================  =============================
rule                matched                                      masked as
==================  ===========================================  =============================
secret key/value    ``password=``, ``senha:``, ``token=``,       ``password=***``
                    ``api_key``, ``authorization:``, ``secret``
                    ... (any case; ``=`` or ``:``; quotes ok)
bearer / basic      ``Bearer <credential>``, ``Basic <cred>``    ``Bearer ***``
JWT                 ``eyJ...`` with up to two ``.`` sections     ``***``
e-mail              ``local@domain.tld``                         ``m***@example.com``
CNPJ                14 digits, bare or ``11.222.333/0001-81``;   ``**.***.***/****-81``
                    alphanumeric (2026 format) when punctuated;
                    only if the check digits are valid
CPF                 11 digits, bare or ``123.456.789-09``;       ``***.***.***-09``
                    only if the check digits are valid
phone (BR)          optional ``+55``/``55``, DDD (``11`` or      ``+55 11 *****-**87``
                    ``(11)``), subscriber of 9 digits starting   (DDD, country code and
                    with 9 (mobile) or 8 starting with 2-5       punctuation kept, all but
                    (landline); a bare digit run must be a       the last 2 subscriber
                    mobile (a bare 10-digit run is as likely a   digits starred)
                    Unix timestamp as a landline)
==================  ===========================================  =============================

Numbers are matched only when not glued to other digits, so a CPF inside a longer
digit run (an id, a timestamp) is left alone: masking windows of long numbers would
mangle ids in roughly one case in a hundred (the chance of valid check digits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal, get_args

from proxy.privacy.documents import is_cnpj, is_cpf
from proxy.privacy.fields import names_of
from proxy.privacy.shapes import (
    CNPJ,
    CPF,
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

__all__ = ["KEY_WORDS", "PERSONAL_DATA_KINDS", "PersonalDataKind", "find_personal_data", "mask_text"]

# Guards that let ``mask_text`` skip rules cheaply. Substring tests cost ~0.1 µs on
# a 200-character line; a case-insensitive alternation over the same line costs
# ~20 µs, so no rule runs on a line that lacks what the rule needs. Every name of
# the "secret" kind in the field table holds one of these words (a test checks).
KEY_WORDS: Final = ("pass", "pwd", "senha", "secret", "token", "key", "auth", "cookie")
# Every CPF, CNPJ and phone shape is a run of digits and punctuation starting and
# ending with a digit, at least 10 characters long. Starting the pattern with a
# digit class lets the regex engine skip non-digits quickly, and the (slower)
# number rules then run only on the few short runs found.
_NUMBER_RUN = re.compile(r"\d[\d\s().+/-]{8,}\d", re.ASCII)
_MIN_DIGITS = 10
# A punctuated alphanumeric CNPJ (2026 format) holds letters, so no number run
# covers it; it always has this tail.
_ALNUM_CNPJ_TAIL = re.compile(r"/[0-9A-Z]{4}-\d\d", re.ASCII)


def _any_spelling(name: str) -> str:
    # The table's names are normalised ("apikey"); in free text they come as api_key,
    # api-key, apiKey or API_KEY.
    return "[_-]?".join(re.escape(char) for char in name)


# A ``name=value`` or ``"name": "value"`` pair whose name the field table calls a secret.
_SECRET_KV = re.compile(
    r"(?P<key>(?<![A-Za-z0-9])(?:"
    + "|".join(_any_spelling(name) for name in sorted(names_of("secret"), key=len, reverse=True))
    + r"))"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:(?:Bearer|Basic)\s+)?[^\s&,;\"'}\]]+)",
    re.IGNORECASE | re.ASCII,
)
_BEARER = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE | re.ASCII)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}", re.ASCII)


def _on_secret(match: re.Match[str]) -> str:
    return f"{match['key']}{match['sep']}{MASK}"


def _on_bearer(match: re.Match[str]) -> str:
    return f"{match['scheme']} {MASK}"


def _on_cnpj(match: re.Match[str]) -> str:
    compact = DOCUMENT_PUNCTUATION.sub("", match[0])
    return masked_cnpj(compact) if is_cnpj(compact) else match[0]


def _on_cpf(match: re.Match[str]) -> str:
    digits = NOT_DIGIT.sub("", match[0])
    return masked_cpf(digits) if is_cpf(digits) else match[0]


def _on_phone(match: re.Match[str]) -> str:
    subscriber = match["subscriber"]
    if match[0].isdigit() and subscriber[0] != "9":
        return match[0]  # a bare 10-digit run: more likely a timestamp than a landline
    return f"{match['prefix']}{starred_subscriber(subscriber)}"


# What ``find_personal_data`` reports: one kind per rule of ``mask_text``, by the same name.
PersonalDataKind = Literal["secret", "bearer", "jwt", "email", "cnpj", "cpf", "phone"]
PERSONAL_DATA_KINDS: Final[tuple[PersonalDataKind, ...]] = get_args(PersonalDataKind)

_Replace = Callable[[re.Match[str]], str]
_Note = Callable[[PersonalDataKind], None]


def _noted(kind: PersonalDataKind, replace: _Replace, note: _Note | None) -> _Replace:
    """``replace`` itself, or ``replace`` that also tells ``note`` each time it masks something.

    A match the rule leaves as it is (a CPF with wrong check digits, a bare 10-digit
    run) is not personal data and is not noted, so a kind is reported exactly when
    ``mask_text`` would change the text for it.
    """
    if note is None:
        return replace

    def replace_and_note(match: re.Match[str]) -> str:
        masked = replace(match)
        if masked != match[0]:
            note(kind)
        return masked

    return replace_and_note


def _on_jwt(_match: re.Match[str]) -> str:
    return MASK


class _Rules:
    """The free-text rules with their replacements, optionally reporting what they mask.

    Masking and detection share this one definition, so ``find_personal_data`` cannot
    drift from ``mask_text``: what one masks, the other reports.
    """

    __slots__ = ("bearer", "cnpj", "email", "jwt", "number_run", "secret")

    def __init__(self, note: _Note | None) -> None:
        self.secret = _noted("secret", _on_secret, note)
        self.bearer = _noted("bearer", _on_bearer, note)
        # The plain JWT rule is a constant string: re.sub is faster with one than with a call.
        self.jwt: str | _Replace = MASK if note is None else _noted("jwt", _on_jwt, note)
        self.email = _noted("email", masked_email, note)
        self.cnpj = _noted("cnpj", _on_cnpj, note)
        on_cpf = _noted("cpf", _on_cpf, note)
        on_phone = _noted("phone", _on_phone, note)
        on_cnpj = self.cnpj

        def on_number_run(match: re.Match[str]) -> str:
            run = match[0]
            if len(NOT_DIGIT.sub("", run)) < _MIN_DIGITS:
                return run
            # Documents before phones: an 11-digit run can be both a valid CPF and a
            # mobile's shape, and a document mask keeps less (2 check digits, no DDD).
            run = CNPJ.sub(on_cnpj, run)
            run = CPF.sub(on_cpf, run)
            return PHONE.sub(on_phone, run)

        self.number_run = on_number_run

    def apply(self, text: str) -> str:
        lowered = text.lower()
        if ("=" in text or ":" in text) and any(word in lowered for word in KEY_WORDS):
            text = _SECRET_KV.sub(self.secret, text)
        if "bearer" in lowered or "basic" in lowered:
            text = _BEARER.sub(self.bearer, text)
        if "eyJ" in text:
            text = _JWT.sub(self.jwt, text)
        if "@" in text:
            # Before numbers: the digits of "12345678909@mail.com" are an e-mail's.
            text = EMAIL.sub(self.email, text)
        if "/" in text and _ALNUM_CNPJ_TAIL.search(text):
            text = CNPJ.sub(self.cnpj, text)
        return _NUMBER_RUN.sub(self.number_run, text)


# Built once: mask_text runs on every log value and must not build closures per call.
_MASKING_RULES = _Rules(None)


def mask_text(text: str) -> str:
    """Mask every CPF, CNPJ, e-mail, phone, token and secret found by shape in ``text``."""
    return _MASKING_RULES.apply(text)


def find_personal_data(text: str) -> list[PersonalDataKind]:
    """The kind of every value ``mask_text`` would mask in ``text``, one entry per value.

    For checks that must say *what* leaked without repeating it (a log scan, a
    metrics audit): the report names kinds, never values. Entries come in rule order
    (secrets, bearer, JWT, e-mail, CNPJ, then numbers by position), and the list is
    empty exactly when ``mask_text(text) == text``. Already-masked text
    (``***.***.***-09``, ``Bearer ***``, ``m***@example.com``) reports nothing.
    """
    found: list[PersonalDataKind] = []
    _Rules(found.append).apply(text)
    return found
