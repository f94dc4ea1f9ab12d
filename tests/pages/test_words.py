"""proxy.pages.words: plain words for the bank, whatever the product's casing."""

from __future__ import annotations

import pytest

from proxy.pages.words import difference_words, field_words


@pytest.mark.parametrize(
    ("path", "locale", "words"),
    [
        ("score", "pt_BR", "o score de risco (0 a 100)"),
        ("Score", "en", "the risk score (0 to 100)"),
        ("ratings[].value", "pt_BR", "o nível de cada classificação (por exemplo, alto ou baixo)"),
        ("Ratings[].Value", "pt_BR", "o nível de cada classificação (por exemplo, alto ou baixo)"),
        ("Reports.Negative[]", "en", "the negative indicators"),
        ("$status", "pt_BR", "o código de status HTTP da resposta"),
        ("Brand.New", "pt_BR", "o campo Brand.New"),
        ("Brand.New", "en", "the field Brand.New"),
    ],
)
def test_field_words(path: str, locale: str, words: str) -> None:
    assert field_words(path, locale) == words


@pytest.mark.parametrize(
    ("kind", "locale", "words"),
    [
        ("tolerance", "pt_BR", "diferença maior que a tolerância combinada"),
        ("missing", "en", "only in the current answer"),
        ("other", "en", "other"),
    ],
)
def test_difference_words(kind: str, locale: str, words: str) -> None:
    assert difference_words(kind, locale) == words
