"""Languages of the cockpit and the reports: Portuguese (Brazil) first, English second. Pure.

The people reading these pages are a Brazilian migration team and Brazilian banks:
pt-BR is the default whenever the browser does not prefer English. Numbers and dates
come from Babel (CLDR), so "97,3 %" and "03/12/2026 04:30" are the locale's own; every
date is shown in Brasília time with the zone named, because a bank's people read
"04:30" as their own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from proxy.pages.messages import MESSAGES

__all__ = ["BRASILIA", "DEFAULT_LOCALE", "LOCALES", "Translator", "choose_locale", "translator"]

BRASILIA: Final = ZoneInfo("America/Sao_Paulo")
DEFAULT_LOCALE: Final = "pt_BR"
LOCALES: Final = ("pt_BR", "en")
_HTML_LANG: Final = {"pt_BR": "pt-BR", "en": "en"}
_DATE_FORMAT: Final = {"pt_BR": "dd/MM/yyyy HH:mm", "en": "MMM d, yyyy h:mm a"}
_DAY_FORMAT: Final = {"pt_BR": "dd/MM/yyyy", "en": "MMM d, yyyy"}


def choose_locale(explicit: str | None, accept_language: str | None) -> str:
    """The page's locale: an explicit choice (cookie or ?lang=) wins, then the browser's order.

    Only English is ever chosen over the default: any other preference (including
    Portuguese of Portugal) reads the Brazilian copy rather than nothing.
    """
    if explicit:
        wanted = explicit.replace("-", "_")
        for locale in LOCALES:
            if wanted.lower() == locale.lower() or wanted.lower() == locale.split("_")[0]:
                return locale
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        # q=0 (or an unreadable q) means "not this language" (RFC 9110).
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("pt"):
            return "pt_BR"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class Translator:
    """Words, numbers and dates in one locale; every template receives one as ``t``."""

    locale: str

    @property
    def html_lang(self) -> str:
        return _HTML_LANG[self.locale]

    def __call__(self, key: str, **values: object) -> str:
        text = MESSAGES[self.locale].get(key) or MESSAGES[DEFAULT_LOCALE].get(key) or key
        return text.format(**values) if values else text

    def number(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return self("n_a")
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return self("n_a")
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return format_percent(value, format=pattern, locale=self.locale)

    def when(self, moment: datetime | None) -> str:
        """Brasília wall-clock time with the zone named, e.g. ``03/12/2026 04:30 (horário de Brasília)``.

        Named in words rather than "-03": a reader recognises "Brasília time", and the
        offset alone would say nothing about which clock it is."""
        if moment is None:
            return self("n_a")
        local = format_datetime(moment, _DATE_FORMAT[self.locale], tzinfo=BRASILIA, locale=self.locale)
        return f"{local} ({self('zone_name')})"

    def day(self, moment: datetime) -> str:
        return format_datetime(moment, _DAY_FORMAT[self.locale], tzinfo=BRASILIA, locale=self.locale)


def translator(locale: str) -> Translator:
    return Translator(locale if locale in LOCALES else DEFAULT_LOCALE)
