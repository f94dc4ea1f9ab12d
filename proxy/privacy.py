"""The one place where personal and secret data is masked (LGPD art. 6 III, art. 46).

Logs, recorded corpora and shadow differences all pass through this module; nothing
else in the proxy decides what is personal. Two entry points:

* ``mask_text`` finds personal data by its *shape* in free text (log messages,
  exception text, URLs, reprs).
* ``mask_value`` / ``mask_mapping`` mask structured data by field *name*, which is
  surer than shape (a ``Number`` or ``Name`` has no recognisable shape), and fall
  back to ``mask_text`` for every string whose name is not known.

``find_personal_data`` reports the *kind* of each value ``mask_text`` would mask
(never the value), from the same rules, for checks such as the test suite's log scan.

Free-text rules, applied in this order (earlier rules consume what later ones might
misread, e.g. an e-mail local part made of digits is not taken for a CPF):

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
                    only if the mod-11 check digits are valid
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

Field-name rules (names compared case-insensitively, ``_`` and ``-`` ignored, so
``CustomerName``, ``customer_name`` and ``customer-name`` are one name):

==========================================================  =============================
names                                                       masked as
==========================================================  =============================
document, cpf, cnpj, secondaryDocument, ownerDocument       CPF / CNPJ shape above, keeping
                                                            only check digits; else ``***``
name, mothersName, ownerName, customerName, fullName, ...   ``***``
email, emailAddress                                         ``m***@example.com``
phone, phones, phoneNumber, number, mobile, cellphone       phone shape above; a bare
                                                            subscriber keeps its last 2
                                                            digits (``*******87``)
birthdate, dateOfBirth, birthday, dob                       ``***``
street, address, addressLine, complement, district,         ``***`` (an ``address`` object
neighborhood                                                is walked field by field)
zipCode, cep, postalCode                                    first 5 digits (``06454***``)
password, senha, secret, token, accessToken, authorization,  ``***``
cookie, setCookie, apiKey, xApiKey
value                                                       ``***`` when it is a digit
                                                            string (a 2FA code); scores,
                                                            ratings and words are kept
==========================================================  =============================

``areaCode``/``DDD``/``countryCode``, cities and states are kept: they locate a
region, not a person, and a DDD is what makes a phone mismatch explainable.

``pseudonym`` gives a keyed, irreversible token (HMAC-SHA256) for the rare place that
must correlate the same person across records (replays, sticky canaries) without
holding the value itself (LGPD art. 13 §4: the key is the separately kept part).

``pseudonymise_mapping`` (replay corpora) replaces personal values by keyed
pseudonyms *of the same kind*: a valid CPF by another valid CPF, an e-mail by one at
example.com, a phone by one of the same shape, so a recorded request masked this way
is still a valid legacy request when it is replayed (see ``pseudonymous_cpf``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any, Final, Literal, get_args

from stdnum.br import cnpj as _cnpj
from stdnum.br import cpf as _cpf

__all__ = [
    "MASK",
    "PERSONAL_DATA_KINDS",
    "PLACEHOLDER_ADDRESS",
    "PLACEHOLDER_BIRTHDATE",
    "PLACEHOLDER_NAME",
    "PersonalDataKind",
    "cpf_check_digits",
    "find_personal_data",
    "mask_mapping",
    "mask_text",
    "mask_value",
    "pseudonym",
    "pseudonymise_mapping",
    "pseudonymous_cnpj",
    "pseudonymous_cpf",
    "pseudonymous_digits",
    "pseudonymous_email",
    "pseudonymous_phone",
    "secret_fields",
]

MASK = "***"

# --- free text -------------------------------------------------------------------

# Guards that let ``mask_text`` skip rules cheaply. Substring tests cost ~0.1 µs on
# a 200-character line; a case-insensitive alternation over the same line costs
# ~20 µs, so no rule runs on a line that lacks what the rule needs.
_KEY_WORDS = ("pass", "pwd", "senha", "secret", "token", "key", "auth", "cookie")
# Every CPF, CNPJ and phone shape is a run of digits and punctuation starting and
# ending with a digit, at least 10 characters long. Starting the pattern with a
# digit class lets the regex engine skip non-digits quickly, and the (slower)
# number rules then run only on the few short runs found.
_NUMBER_RUN = re.compile(r"\d[\d\s().+/-]{8,}\d", re.ASCII)
_MIN_DIGITS = 10
# A punctuated alphanumeric CNPJ (2026 format) holds letters, so no number run
# covers it; it always has this tail.
_ALNUM_CNPJ_TAIL = re.compile(r"/[0-9A-Z]{4}-\d\d", re.ASCII)

_SECRET_KV = re.compile(
    r"(?P<key>(?<![A-Za-z0-9])(?:password|passwd|pwd|senha|client_secret|secret"
    r"|api[_-]?key|access_token|refresh_token|token|authorization|cookie))"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?:(?:Bearer|Basic)\s+)?[^\s&,;\"'}\]]+)",
    re.IGNORECASE | re.ASCII,
)
_BEARER = re.compile(r"\b(?P<scheme>Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE | re.ASCII)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}", re.ASCII)
_EMAIL = re.compile(
    r"(?P<first>[A-Za-z0-9_%+-])[A-Za-z0-9._%+-]{0,63}"
    r"@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})",
    re.ASCII,
)
_CNPJ = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"\d{14}"
    r"|[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}"
    r"|\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}"
    r")(?![0-9A-Za-z])",
    re.ASCII,
)
_CPF = re.compile(r"(?<!\d)\d{3}\.?\d{3}\.?\d{3}[-.]?\d{2}(?!\d)", re.ASCII)
_PHONE = re.compile(
    r"(?<![\d+])"
    r"(?P<prefix>(?:\+?55[\s-]?)?\(?0?[1-9][1-9]\)?[\s-]?)"
    r"(?P<subscriber>9\d{4}[\s.-]?\d{4}|[2-5]\d{3}[\s.-]?\d{4})"
    r"(?!\d)",
    re.ASCII,
)
_NOT_DIGIT = re.compile(r"\D", re.ASCII)
_DIGIT_BUT_LAST_TWO = re.compile(r"\d(?=(?:\D*\d){2})", re.ASCII)
_DOCUMENT_PUNCTUATION = re.compile(r"[\s./-]")


def _mask_cpf_digits(digits: str) -> str:
    return f"***.***.***-{digits[-2:]}"


def _mask_cnpj_digits(compact: str) -> str:
    return f"**.***.***/****-{compact[-2:]}"


def _star_subscriber(subscriber: str) -> str:
    # Keep punctuation so the reader still sees "a phone", and the last two digits
    # so two phones in one record can be told apart.
    return _DIGIT_BUT_LAST_TWO.sub("*", subscriber)


def _on_secret(match: re.Match[str]) -> str:
    return f"{match['key']}{match['sep']}{MASK}"


def _on_bearer(match: re.Match[str]) -> str:
    return f"{match['scheme']} {MASK}"


def _on_email(match: re.Match[str]) -> str:
    return f"{match['first']}{MASK}@{match['domain']}"


def _on_cnpj(match: re.Match[str]) -> str:
    compact = _DOCUMENT_PUNCTUATION.sub("", match[0])
    return _mask_cnpj_digits(compact) if _cnpj.is_valid(compact) else match[0]


def _on_cpf(match: re.Match[str]) -> str:
    digits = _NOT_DIGIT.sub("", match[0])
    return _mask_cpf_digits(digits) if _cpf.is_valid(digits) else match[0]


def _on_phone(match: re.Match[str]) -> str:
    subscriber = match["subscriber"]
    if match[0].isdigit() and subscriber[0] != "9":
        return match[0]  # a bare 10-digit run: more likely a timestamp than a landline
    return f"{match['prefix']}{_star_subscriber(subscriber)}"


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
        self.email = _noted("email", _on_email, note)
        self.cnpj = _noted("cnpj", _on_cnpj, note)
        on_cpf = _noted("cpf", _on_cpf, note)
        on_phone = _noted("phone", _on_phone, note)
        on_cnpj = self.cnpj

        def on_number_run(match: re.Match[str]) -> str:
            run = match[0]
            if len(_NOT_DIGIT.sub("", run)) < _MIN_DIGITS:
                return run
            # Documents before phones: an 11-digit run can be both a valid CPF and a
            # mobile's shape, and a document mask keeps less (2 check digits, no DDD).
            run = _CNPJ.sub(on_cnpj, run)
            run = _CPF.sub(on_cpf, run)
            return _PHONE.sub(on_phone, run)

        self.number_run = on_number_run

    def apply(self, text: str) -> str:
        lowered = text.lower()
        if ("=" in text or ":" in text) and any(word in lowered for word in _KEY_WORDS):
            text = _SECRET_KV.sub(self.secret, text)
        if "bearer" in lowered or "basic" in lowered:
            text = _BEARER.sub(self.bearer, text)
        if "eyJ" in text:
            text = _JWT.sub(self.jwt, text)
        if "@" in text:
            # Before numbers: the digits of "12345678909@mail.com" are an e-mail's.
            text = _EMAIL.sub(self.email, text)
        if "/" in text and _ALNUM_CNPJ_TAIL.search(text):
            text = _CNPJ.sub(self.cnpj, text)
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


# --- structured data ---------------------------------------------------------------

_Rule = Callable[[object], object]


def _redact(_value: object) -> object:
    return MASK


def _mask_document(value: object) -> object:
    compact = _DOCUMENT_PUNCTUATION.sub("", str(value)).upper()
    if len(compact) == 11 and compact.isdigit():
        return _mask_cpf_digits(compact)
    if len(compact) == 14 and compact.isascii() and compact.isalnum() and compact[-2:].isdigit():
        return _mask_cnpj_digits(compact)
    return MASK


def _mask_email(value: object) -> object:
    match = _EMAIL.fullmatch(str(value).strip())
    return _on_email(match) if match else MASK


def _mask_phone(value: object) -> object:
    text = str(value).strip()
    match = _PHONE.fullmatch(text)
    if match:
        return f"{match['prefix']}{_star_subscriber(match['subscriber'])}"
    # A subscriber number without DDD, or a street number under ``Number``.
    return _star_subscriber(text) if any(c.isdigit() for c in text) else MASK


def _mask_zip(value: object) -> object:
    digits = _NOT_DIGIT.sub("", str(value))
    return f"{digits[:5]}***" if len(digits) == 8 else MASK


def _mask_code(value: object) -> object:
    # ``value`` carries 2FA codes ("123456") but also scores (73.71) and ratings
    # ("High"): only a digit string is a secret; the others are what comparisons read.
    if isinstance(value, str):
        return MASK if value.strip().isdigit() else mask_text(value)
    return value


def _rules(*names: str, rule: _Rule) -> dict[str, _Rule]:
    return dict.fromkeys(names, rule)


_FIELD_RULES: Mapping[str, _Rule] = {
    **_rules("document", "cpf", "cnpj", "secondarydocument", "ownerdocument", "documentnumber",
             rule=_mask_document),
    **_rules("name", "mothersname", "mothername", "fathersname", "ownername", "customername",
             "fullname", "firstname", "lastname", "socialname", rule=_redact),
    **_rules("email", "emailaddress", rule=_mask_email),
    **_rules("phone", "phones", "phonenumber", "number", "mobile", "mobilephone", "cellphone",
             "telephone", rule=_mask_phone),
    **_rules("birthdate", "dateofbirth", "birthday", "dob", rule=_redact),
    **_rules("street", "address", "addressline", "complement", "district", "neighborhood",
             "neighbourhood", rule=_redact),
    **_rules("zipcode", "cep", "postalcode", rule=_mask_zip),
    **_rules("password", "passwd", "pwd", "senha", "secret", "clientsecret", "token",
             "accesstoken", "refreshtoken", "authorization", "cookie", "setcookie", "apikey",
             "xapikey", rule=_redact),
    "value": _mask_code,
}  # fmt: skip


@lru_cache(maxsize=4096)
def _normalise(key: str) -> str:
    # Bounded cache: keys come from a few contracts, but a hostile body could send many.
    return key.casefold().replace("_", "").replace("-", "")


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
            (_mask_key(key) if isinstance(key, str) else key): _field(key, item, drop)
            for key, item in data.items()
            if not (isinstance(key, str) and _normalise(key) in drop)
        }
    if isinstance(data, list | tuple):
        return [_walk(item, drop) for item in data]
    return _mask_scalar(data)


def _field(key: object, value: object, drop: frozenset[str]) -> Any:
    rule = _FIELD_RULES.get(_normalise(key)) if isinstance(key, str) else None
    if rule is None or isinstance(value, dict | Mapping):
        # Objects are walked field by field even under a known name: ``Phone`` is
        # {CountryCode, AreaCode, Number} and its AreaCode is worth keeping.
        return _walk(value, drop)
    if isinstance(value, list | tuple):
        # ``Phones: ["11988056887", ...]`` gets the phone rule per element.
        return [_field(key, item, drop) for item in value]
    if value is None or isinstance(value, bool):
        return value
    return rule(value)


def mask_value(key: str, value: object) -> object:
    """Mask ``value`` as the field called ``key`` deserves (see the table above)."""
    return _field(key, value, frozenset())


def mask_mapping(data: Any, *, drop: Collection[str] = ()) -> Any:
    """Masked deep copy of JSON-like ``data``; keys named in ``drop`` are removed.

    ``drop`` names are compared like field names (case-insensitive, ``_``/``-``
    ignored) at every depth: logs drop ``Authorization`` headers rather than star them.
    """
    return _walk(data, _normalised_names(frozenset(drop)))


@lru_cache(maxsize=64)
def _normalised_names(names: frozenset[str]) -> frozenset[str]:
    # Callers pass the same few constant sets on every call (the logging drop list).
    return frozenset(_normalise(name) for name in names)


# --- pseudonyms ----------------------------------------------------------------------

_PUNCTUATED_NUMBER = re.compile(r"[\d\s().+/-]+")
_MIN_KEY_BYTES = 16


def pseudonym(value: str, *, key: bytes) -> str:
    """A stable, irreversible token for ``value``: HMAC-SHA256 under ``key``, 16 hex chars.

    Documents and phones are reduced to their digits first, so ``123.456.789-09`` and
    ``12345678909`` are one person; other text is case-folded. The key is mandatory
    and at least 16 bytes: without it, a CPF's hash is reversed by trying all 10^9
    CPFs, which is not anonymisation (LGPD art. 5 XI).
    """
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {_MIN_KEY_BYTES} bytes")
    text = value.strip()
    if _PUNCTUATED_NUMBER.fullmatch(text) and any(c.isdigit() for c in text):
        text = _NOT_DIGIT.sub("", text)
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
_CPF_WEIGHTS = ((10, 9, 8, 7, 6, 5, 4, 3, 2), (11, 10, 9, 8, 7, 6, 5, 4, 3, 2))
_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _check_key(key: bytes) -> None:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"pseudonym key must be at least {_MIN_KEY_BYTES} bytes")


def _keyed_digits(kind: str, value: str, count: int, key: bytes) -> str:
    """``count`` decimal digits derived from ``value`` under ``key``, per ``kind``."""
    _check_key(key)
    digest = hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest, 'big') % 10**count:0{count}d}"


def _mod11_digit(digits: str, weights: tuple[int, ...]) -> str:
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return "0" if remainder < 2 else str(11 - remainder)


def cpf_check_digits(base: str) -> str:
    """The two check digits of a nine-digit CPF base (the Receita Federal's mod-11 rule)."""
    first = _mod11_digit(base, _CPF_WEIGHTS[0])
    return first + _mod11_digit(base + first, _CPF_WEIGHTS[1])


def _cnpj_check_digits(base: str) -> str:
    first = _mod11_digit(base, _CNPJ_WEIGHTS[0])
    return first + _mod11_digit(base + first, _CNPJ_WEIGHTS[1])


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
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) != 11:
        raise ValueError("a CPF has 11 digits")
    base = _keyed_digits("cpf", digits, 9, key)
    if len(set(base)) == 1:
        # 000.000.000-00 ... 999.999.999-99 pass the mod-11 rule but are refused as
        # CPFs; one base in 10^8 lands here.
        base = base[:-1] + str((int(base[-1]) + 1) % 10)
    return _same_shape(value, base + cpf_check_digits(base))


def pseudonymous_cnpj(value: str, *, key: bytes) -> str:
    """Another valid (numeric) CNPJ derived from ``value`` under ``key``, same punctuation."""
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) != 14:
        raise ValueError("a numeric CNPJ has 14 digits")
    base = _keyed_digits("cnpj", digits, 12, key)
    return _same_shape(value, base + _cnpj_check_digits(base))


def pseudonymous_digits(value: str, *, key: bytes, keep: int = 0) -> str:
    """The digits of ``value`` after the first ``keep`` replaced by keyed ones; shape kept."""
    digits = _NOT_DIGIT.sub("", value)
    kept = digits[:keep]
    return _same_shape(value, kept + _keyed_digits("digits", digits, len(digits) - len(kept), key))


def pseudonymous_email(value: str, *, key: bytes) -> str:
    """``u<12 hex>@example.com`` from the case-folded address: one person, one address."""
    return f"u{pseudonym(value, key=key)[:12]}@example.com"


def pseudonymous_phone(value: str, *, key: bytes) -> str:
    """A phone of the same shape: country code, DDD and the subscriber's first two digits kept.

    The subscriber's digits alone feed the hash, so ``11988056887`` and a separate
    ``AreaCode: 11`` + ``Number: 988056887`` give the same subscriber pseudonym.
    Anything that is not a phone (a street number) gets keyed digits of its length.
    """
    match = _PHONE.fullmatch(value.strip())
    if match is not None:
        return f"{match['prefix']}{_pseudo_subscriber(match['subscriber'], key)}"
    digits = _NOT_DIGIT.sub("", value)
    if len(digits) in (8, 9):
        return _pseudo_subscriber(value, key)  # a subscriber without its DDD
    return pseudonymous_digits(value, key=key) if digits else value


def _pseudo_subscriber(subscriber: str, key: bytes) -> str:
    # The first two digits stay: they say mobile (9 then 6-9) or landline (2-5), which
    # contracts check (Mobile Trust refuses ``90...``), and they say nothing of the person.
    digits = _NOT_DIGIT.sub("", subscriber)
    return _same_shape(subscriber, digits[:2] + _keyed_digits("phone", digits, len(digits) - 2, key))


def _pseudo_document(value: object, key: bytes) -> object:
    text = str(value)
    digits = _NOT_DIGIT.sub("", text)
    if len(digits) == 11 and len(_DOCUMENT_PUNCTUATION.sub("", text)) == 11:
        result = pseudonymous_cpf(text, key=key)
    elif len(digits) == 14 and len(_DOCUMENT_PUNCTUATION.sub("", text)) == 14:
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
    digits = _NOT_DIGIT.sub("", text)
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
    if _CPF.fullmatch(text) and _cpf.is_valid(_NOT_DIGIT.sub("", text)):
        return pseudonymous_cpf(value, key=key)
    if _EMAIL.fullmatch(text):
        return pseudonymous_email(value, key=key)
    return mask_text(value)


_PseudoRule = Callable[[object, bytes], object]

_PSEUDONYM_RULES: Mapping[str, _PseudoRule] = {
    **dict.fromkeys(("document", "cpf", "cnpj", "secondarydocument", "ownerdocument", "documentnumber"),
                    _pseudo_document),
    **dict.fromkeys(("name", "mothersname", "mothername", "fathersname", "ownername", "customername",
                     "fullname", "firstname", "lastname", "socialname"), _pseudo_name),
    **dict.fromkeys(("email", "emailaddress"), _pseudo_email),
    **dict.fromkeys(("phone", "phones", "phonenumber", "number", "mobile", "mobilephone", "cellphone",
                     "telephone"), _pseudo_phone),
    **dict.fromkeys(("birthdate", "dateofbirth", "birthday", "dob"), _pseudo_birthdate),
    **dict.fromkeys(("street", "address", "addressline", "complement", "district", "neighborhood",
                     "neighbourhood"), _pseudo_address),
    **dict.fromkeys(("zipcode", "cep", "postalcode"), _pseudo_zip),
    **dict.fromkeys(("password", "passwd", "pwd", "senha", "secret", "clientsecret", "token",
                     "accesstoken", "refreshtoken", "authorization", "cookie", "setcookie", "apikey",
                     "xapikey"), _pseudo_secret),
    "value": _pseudo_code,
}  # fmt: skip
_SECRET_RULES = frozenset({_pseudo_secret, _pseudo_code})


def _pseudo_walk(data: object, key: bytes) -> Any:
    if isinstance(data, str):
        return _pseudo_text(data, key)
    if isinstance(data, dict):
        return {name: _pseudo_field(name, item, key) for name, item in data.items()}
    if isinstance(data, list | tuple):
        return [_pseudo_walk(item, key) for item in data]
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) >= 10**9:
        masked = _pseudo_text(str(data), key)
        return int(masked) if masked.isdigit() else masked
    return data


def _pseudo_field(name: object, value: object, key: bytes) -> Any:
    rule = _PSEUDONYM_RULES.get(_normalise(name)) if isinstance(name, str) else None
    if rule is None or isinstance(value, dict):
        return _pseudo_walk(value, key)
    if isinstance(value, list | tuple):
        return [_pseudo_field(name, item, key) for item in value]
    if value is None or isinstance(value, bool | float):
        return value
    return rule(value, key)


def pseudonymise_mapping(data: Any, *, key: bytes) -> Any:
    """A deep copy of JSON-like ``data`` with every personal value replaced by a keyed
    pseudonym of the same kind and shape (see the comment above ``PLACEHOLDER_NAME``).

    Field names follow ``mask_value``'s table; secrets become ``***``; 2FA codes
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
            rule = _PSEUDONYM_RULES.get(_normalise(name)) if isinstance(name, str) else None
            if rule in _SECRET_RULES and not isinstance(value, dict | list) and value is not None:
                if rule is _pseudo_secret or _pseudo_code(value, b"") != value:
                    found.append(path)
            else:
                found.extend(secret_fields(value, prefix=path))
    elif isinstance(data, list):
        for item in data:
            found.extend(secret_fields(item, prefix=f"{prefix}[]"))
    return tuple(found)
