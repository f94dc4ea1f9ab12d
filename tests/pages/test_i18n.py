"""proxy.pages.i18n: the language chosen, numbers by Babel, dates in Brasília time with the zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from proxy.pages.i18n import choose_locale, translator
from proxy.pages.messages import MESSAGES


@pytest.mark.parametrize(
    ("explicit", "accept", "chosen"),
    [
        (None, None, "pt_BR"),
        (None, "", "pt_BR"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "pt-BR,pt;q=0.9,en;q=0.8", "pt_BR"),
        (None, "fr-FR,en;q=0.5", "en"),
        (None, "en;q=0.3,pt;q=0.8", "pt_BR"),
        (None, "de-DE", "pt_BR"),
        (None, "en;q=abc", "pt_BR"),
        ("en", "pt-BR", "en"),
        ("pt-BR", "en-US", "pt_BR"),
        ("xx", "en-US", "en"),
    ],
)
def test_the_locale(explicit: str | None, accept: str | None, chosen: str) -> None:
    assert choose_locale(explicit, accept) == chosen


MOMENT = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "percent", "number", "when"),
    [
        ("pt_BR", "97,3%", "12.346", "03/12/2026 04:30 (horário de Brasília)"),
        ("en", "97.3%", "12,346", "Dec 3, 2026 4:30 AM (Brasília time)"),
    ],
)
def test_numbers_and_dates_in_the_locale(locale: str, percent: str, number: str, when: str) -> None:
    t = translator(locale)
    assert t.percent(0.9734) == percent
    assert t.number(12345.6) == number
    assert t.when(MOMENT) == when
    assert t.percent(None) == t("n_a")


def test_both_languages_have_every_sentence_with_the_same_placeholders() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    portuguese, english = MESSAGES["pt_BR"], MESSAGES["en"]
    assert set(portuguese) == set(english)
    assert {key: fields(text) for key, text in portuguese.items()} == {
        key: fields(text) for key, text in english.items()
    }


def test_an_unknown_key_reads_as_itself_never_a_crash() -> None:
    assert translator("en")("no_such_key") == "no_such_key"
    assert translator("zz").locale == "pt_BR"
