"""The insight catalogue and the deterministic person profile."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proxy.errors import ConfigError
from proxy.simulators.catalogue import CatalogueEntry, Entity, load_catalogue
from proxy.simulators.profile import (
    MAX_INSIGHTS,
    MAX_RATING,
    MIN_INSIGHTS,
    RATING_PAIRS,
    PersonProfile,
    derive_profile,
)

from .support import CATALOGUE

HEADER = "code,description,type,category,relevance,related_to,evidence\n"
DOCUMENTS = [f"{n:011d}" for n in range(10_000_000_000, 10_000_000_000 + 400 * 7919, 7919)]
ONLY_DOCUMENT: frozenset[Entity] = frozenset({"Document"})
EVERYTHING: frozenset[Entity] = frozenset({"Document", "Email", "Phone", "ZipCode", "Device"})


# -- catalogue ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("GER2100", "CPF involved in fraud less than 1 month ago"),
        ("GER2101", "CPF last involved in fraud between 1 and 3 months ago"),
    ],
)
def test_public_codes_are_in_the_catalogue(
    catalogue: tuple[CatalogueEntry, ...], code: str, description: str
) -> None:
    entry = next(entry for entry in catalogue if entry.code == code)
    assert (entry.description, entry.relevance, entry.evidence) == (description, "Alerta", "documented")


def test_sample_catalogue_spans_categories_and_relevances(catalogue: tuple[CatalogueEntry, ...]) -> None:
    samples = [entry for entry in catalogue if entry.evidence == "sample"]
    assert len(samples) >= 40
    assert {entry.category for entry in samples} == {
        "document",
        "email",
        "phone",
        "address",
        "device",
        "behaviour",
    }
    assert {entry.relevance for entry in samples} == {"Positivo", "Alerta", "Negativo"}
    assert all(entry.code[3:].startswith("9") for entry in samples)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("code,description\nX1,x\n", "columns"),
        (HEADER + "X1,d,t,c,Maybe,Document,sample\n", "relevance"),
        (HEADER + "X1,d,t,c,Alerta,Document|Car,sample\n", "related_to"),
        (HEADER + "X1,d,t,c,Alerta,,sample\n", "related_to"),
        (HEADER + ",d,t,c,Alerta,Document,sample\n", "code"),
        (HEADER + "X1,d,t,c,Alerta,Document,sample\nX1,d,t,c,Alerta,Document,sample\n", "unique"),
        (HEADER, "empty"),
    ],
)
def test_a_broken_catalogue_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "insights.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_catalogue(path)


def test_a_missing_catalogue_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalogue(tmp_path / "absent.csv")


# -- profile --------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["12345678909", "00000000000", "11222333000181"])
def test_same_document_same_profile(catalogue: tuple[CatalogueEntry, ...], document: str) -> None:
    assert derive_profile(document, catalogue) == derive_profile(document, catalogue)


@pytest.mark.parametrize(
    ("punctuated", "digits"), [("123.456.789-09", "12345678909"), ("11.222.333/0001-81", "11222333000181")]
)
def test_punctuation_does_not_change_the_person(
    catalogue: tuple[CatalogueEntry, ...], punctuated: str, digits: str
) -> None:
    assert derive_profile(punctuated, catalogue) == derive_profile(digits, catalogue)


def test_different_documents_are_different_people(catalogue: tuple[CatalogueEntry, ...]) -> None:
    profiles = [derive_profile(document, catalogue) for document in DOCUMENTS[:50]]
    assert len({profile.risk_score for profile in profiles}) >= 45
    assert len({profile.insight_codes for profile in profiles}) >= 45
    assert len({profile.ratings for profile in profiles}) >= 10


def test_profile_shape(catalogue: tuple[CatalogueEntry, ...]) -> None:
    for document in DOCUMENTS[:100]:
        profile = derive_profile(document, catalogue)
        assert MIN_INSIGHTS <= len(profile.insights) <= MAX_INSIGHTS
        assert [rating.pair for rating in profile.ratings] == list(RATING_PAIRS)
        assert all(0 <= rating.level <= MAX_RATING for rating in profile.ratings)
        assert round(profile.risk_score, 2) == profile.risk_score


def test_risky_people_get_more_bad_news(catalogue: tuple[CatalogueEntry, ...]) -> None:
    profiles = [derive_profile(document, catalogue) for document in DOCUMENTS]
    safe = [p for p in profiles if p.risk_score < 20]
    risky = [p for p in profiles if p.risk_score > 60]

    def bad_share(group: list[PersonProfile]) -> float:
        entries = [entry for p in group for entry in p.insights]
        return sum(entry.relevance != "Positivo" for entry in entries) / len(entries)

    def mean_rating(group: list[PersonProfile]) -> float:
        levels = [r.level for p in group for r in p.ratings]
        return sum(levels) / len(levels)

    assert safe
    assert risky
    assert bad_share(risky) > bad_share(safe) + 0.2
    assert mean_rating(risky) < mean_rating(safe) - 1


@pytest.mark.parametrize(
    ("present", "expected_pairs"),
    [
        (ONLY_DOCUMENT, []),
        (frozenset({"Document", "Email"}), [("Document", "Email")]),
        (
            frozenset({"Document", "Phone", "ZipCode"}),
            [("Document", "Phone"), ("Document", "ZipCode"), ("Phone", "ZipCode")],
        ),
        (EVERYTHING, list(RATING_PAIRS)),
    ],
)
def test_only_pairs_present_are_rated(
    catalogue: tuple[CatalogueEntry, ...],
    present: frozenset[Entity],
    expected_pairs: list[tuple[str, str]],
) -> None:
    profile = derive_profile("12345678909", catalogue)
    assert [rating.pair for rating in profile.ratings_for(present)] == expected_pairs
    for rating in profile.ratings_for(present):
        assert profile.rating(rating.pair) == rating.level


@pytest.mark.parametrize("present", [ONLY_DOCUMENT, frozenset({"Document", "Email"}), EVERYTHING])
def test_only_insights_about_present_data_are_reported(
    catalogue: tuple[CatalogueEntry, ...], present: frozenset[Entity]
) -> None:
    for document in DOCUMENTS[:50]:
        profile = derive_profile(document, catalogue)
        reported = profile.insights_for(present)
        assert set(reported) <= set(profile.insights)
        assert all(present.issuperset(entry.related_to) for entry in reported)
    assert (
        derive_profile(DOCUMENTS[0], catalogue).insights_for(EVERYTHING)
        == derive_profile(DOCUMENTS[0], catalogue).insights
    )


def test_more_data_moves_the_score_only_slightly(catalogue: tuple[CatalogueEntry, ...]) -> None:
    for document in DOCUMENTS[:50]:
        profile = derive_profile(document, catalogue)
        assert profile.score_for(ONLY_DOCUMENT) == profile.risk_score
        assert abs(profile.score_for(EVERYTHING) - profile.risk_score) <= 4 * 2.5
        assert profile.phone_checked_score(EVERYTHING) <= profile.score_for(EVERYTHING)


def test_the_catalogue_is_an_argument_not_a_global(catalogue: tuple[CatalogueEntry, ...]) -> None:
    only_public = tuple(entry for entry in catalogue if entry.evidence == "documented")
    profile = derive_profile("12345678909", only_public)
    assert profile.insight_codes == {"GER2100", "GER2101"}


SHIPPED = load_catalogue(CATALOGUE)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_any_cpf_gives_a_sane_profile(document: str) -> None:
    profile = derive_profile(document, SHIPPED)
    assert 0 <= profile.risk_score <= 100
    assert 0 <= profile.score_for(EVERYTHING) <= 100
    assert profile.insight_codes <= {entry.code for entry in SHIPPED}
