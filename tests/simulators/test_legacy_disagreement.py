"""Controlled disagreement: who is picked, how far their answers move, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import pytest

from proxy.simulators.catalogue import CatalogueEntry, Entity
from proxy.simulators.legacy import LegacySimulatorSettings
from proxy.simulators.legacy.facts import Facts
from proxy.simulators.legacy.perturbation import Disagreement, Kind, Perturbation
from proxy.simulators.profile import PairRating, derive_profile

from .legacy_support import (
    DT_EXAMPLE,
    FFR_EXAMPLE,
    MT_EXAMPLE,
    Legacy,
    assert_valid_answer,
    documents,
    expected_datatrust,
    expected_ffr,
    expected_mobile_trust,
    make_legacy_app,
    open_legacy,
)
from .support import FakeClock

KEY: Final = "test-key"
DT_SCALE: Final = ["None", "Low", "Medium", "High"]
MT_SCALE: Final = ["Unknown", "Weak", "Medium", "Strong"]
EVERYTHING: Final[frozenset[Entity]] = frozenset({"Document", "Email", "Phone", "ZipCode", "Device"})
MT_PRESENT: Final[frozenset[Entity]] = frozenset({"Document", "Email", "Phone", "ZipCode"})


def perturbation(kinds: set[Kind], **changes: Any) -> Perturbation:
    values: dict[str, Any] = {
        "kinds": frozenset(kinds),
        "score_shift": 3,
        "insight_pick": 0.0,
        "rating_pick": 0.0,
        "rating_up": True,
        "fallback": 0.0,
    }
    values.update(changes)
    return Perturbation(**values)


ONE_RATING: Final = (PairRating(("Document", "Email"), 3), PairRating(("Document", "Phone"), 0))


# -- who disagrees -------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.3, 0.5, 1.0])
def test_the_share_of_people_picked_is_the_rate(rate: float) -> None:
    disagreement = Disagreement(rate=rate, key=KEY, max_score_shift=5)
    people = documents(2000)
    share = sum(disagreement.selects(d) for d in people) / len(people)
    assert abs(share - rate) <= 0.03


def test_picks_are_fixed_by_the_key_and_the_person() -> None:
    people = documents(500)
    first = Disagreement(rate=0.3, key=KEY, max_score_shift=5)
    second = Disagreement(rate=0.3, key=KEY, max_score_shift=5)
    other = Disagreement(rate=0.3, key="another-key", max_score_shift=5)
    picked = [d for d in people if first.selects(d)]
    assert picked == [d for d in people if second.selects(d)]
    assert picked != [d for d in people if other.selects(d)]
    assert [first.for_person(d) for d in picked] == [second.for_person(d) for d in picked]
    # Raising the rate only adds people: a backtest at 10% is a subset of one at 30%.
    lower = Disagreement(rate=0.1, key=KEY, max_score_shift=5)
    assert {d for d in people if lower.selects(d)} <= set(picked)


@pytest.mark.parametrize("max_shift", [1, 2, 5])
def test_perturbations_are_never_empty_and_shifts_are_bounded(max_shift: int) -> None:
    disagreement = Disagreement(rate=1, key=KEY, max_score_shift=max_shift)
    shifts = set()
    for document in documents(400):
        found = disagreement.for_person(document)
        assert found is not None
        assert found.kinds
        assert 1 <= abs(found.score_shift) <= max_shift
        shifts.add(found.score_shift)
    assert shifts == {s for s in range(-max_shift, max_shift + 1) if s}


@pytest.mark.parametrize(("rate", "shift"), [(-0.1, 5), (1.1, 5), (0.5, 0)])
def test_disagreement_refuses_nonsense(rate: float, shift: int) -> None:
    with pytest.raises(ValueError, match=r"rate|shift"):
        Disagreement(rate=rate, key=KEY, max_score_shift=shift)


# -- what a perturbation does ----------------------------------------------------------------------

FACTS: Final = Facts(score=50.25, ratings=ONE_RATING, insights=("A", "B", "C"))

APPLY_CASES: Final[list[tuple[str, Perturbation, Facts, Facts]]] = [
    ("score up", perturbation({"score"}), FACTS, Facts(53.25, ONE_RATING, ("A", "B", "C"))),
    (
        "score reflects at 100",
        perturbation({"score"}, score_shift=4),
        Facts(98.5, (), ()),
        Facts(94.5, (), ()),
    ),
    ("score reflects at 0", perturbation({"score"}, score_shift=-2), Facts(1, (), ()), Facts(3, (), ())),
    (
        "insight dropped",
        perturbation({"insight"}, insight_pick=0.5),
        FACTS,
        Facts(50.25, ONE_RATING, ("A", "C")),
    ),
    (
        "top rating steps down",
        perturbation({"rating"}),
        FACTS,
        Facts(50.25, (PairRating(("Document", "Email"), 2), ONE_RATING[1]), ("A", "B", "C")),
    ),
    (
        "bottom rating steps up",
        perturbation({"rating"}, rating_pick=0.9, rating_up=False),
        FACTS,
        Facts(50.25, (ONE_RATING[0], PairRating(("Document", "Phone"), 1)), ("A", "B", "C")),
    ),
    (
        "no score: fallback",
        perturbation({"score"}, fallback=0.0),
        Facts(None, ONE_RATING, ("A",)),
        Facts(None, ONE_RATING, ()),
    ),
    ("nothing to perturb", perturbation({"insight", "rating"}), Facts(None, (), ()), Facts(None, (), ())),
]


@pytest.mark.parametrize(
    ("name", "change", "before", "after"), APPLY_CASES, ids=[case[0] for case in APPLY_CASES]
)
def test_perturbation_effects(name: str, change: Perturbation, before: Facts, after: Facts) -> None:
    assert change.apply(before) == after


def test_a_whole_score_stays_whole() -> None:
    moved = perturbation({"score"}, score_shift=-5).apply(Facts(40, (), ()))
    assert moved.score == 35
    assert isinstance(moved.score, int)


# -- the answers at rate 1: every one perturbed, each within bounds ---------------------------------


@pytest.fixture
async def contrary(clock: FakeClock) -> AsyncIterator[Legacy]:
    settings = LegacySimulatorSettings(disagreement_rate=1, disagreement_key=KEY)
    async with open_legacy(make_legacy_app(settings, clock=clock)) as opened:
        yield opened


def assert_at_most_one_missing(expected: list[Any], actual: list[Any]) -> int:
    """``actual`` is ``expected`` with at most one item left out (order kept); returns how many."""
    assert len(expected) - len(actual) in (0, 1), (expected, actual)
    if len(actual) == len(expected):
        assert actual == expected
        return 0
    assert any(expected[:i] + expected[i + 1 :] == actual for i in range(len(expected))), (expected, actual)
    return 1


def assert_ratings_one_step(
    expected: list[dict[str, str]], actual: list[dict[str, str]], relation: str, value: str, scale: list[str]
) -> int:
    assert [r[relation] for r in actual] == [r[relation] for r in expected]
    moved = [(e[value], a[value]) for e, a in zip(expected, actual, strict=True) if e != a]
    assert len(moved) <= 1, moved
    for before, after in moved:
        assert abs(scale.index(before) - scale.index(after)) == 1
    return len(moved)


def assert_score_close(expected: float, actual: float) -> int:
    assert abs(actual - expected) <= 5 + 1e-9
    assert 0 <= actual <= 100
    return int(actual != expected)


Check = Callable[[dict[str, Any], dict[str, Any]], int]


def check_datatrust(expected: dict[str, Any], answer: dict[str, Any]) -> int:
    return (
        assert_score_close(expected["score"], answer["score"])
        + assert_at_most_one_missing(expected["insights"], answer["insights"])
        + assert_ratings_one_step(expected["ratings"], answer["ratings"], "relatedTo", "value", DT_SCALE)
    )


def check_ffr(expected: dict[str, Any], answer: dict[str, Any]) -> int:
    def variables(body: dict[str, Any]) -> list[Any]:
        return [*body["Reports"]["Negative"], *body["Reports"]["Positive"], *body["AttackAlerts"]]

    return assert_score_close(expected["Score"], answer["Score"]) + assert_at_most_one_missing(
        variables(expected), variables(answer)
    )


def check_mobile_trust(expected: dict[str, Any], answer: dict[str, Any]) -> int:
    assert answer["Document"] == expected["Document"]
    return assert_at_most_one_missing(expected["Insights"], answer["Insights"]) + assert_ratings_one_step(
        expected["Ratings"], answer["Ratings"], "Relation", "Value", MT_SCALE
    )


BOUNDED_CASES: Final = [
    ("datatrust", "datatrust.transaction.create", lambda d: {**DT_EXAMPLE, "Document": d, "SessionId": "s"}),
    ("ffr", "ffr.score", lambda d: {**FFR_EXAMPLE, "Cpf": d}),
    ("mobile_trust", "mobiletrust.transaction.create", lambda d: {**MT_EXAMPLE, "Document": d}),
]
EXPECTATIONS: Final[dict[str, tuple[Callable[..., dict[str, Any]], frozenset[Entity], Check]]] = {
    "datatrust": (expected_datatrust, EVERYTHING, check_datatrust),
    "ffr": (expected_ffr, EVERYTHING, check_ffr),
    "mobile_trust": (expected_mobile_trust, MT_PRESENT, check_mobile_trust),
}


@pytest.mark.parametrize(
    ("call", "operation", "body"), BOUNDED_CASES, ids=[case[0] for case in BOUNDED_CASES]
)
async def test_rate_one_perturbs_every_answer_within_bounds(
    contrary: Legacy,
    catalogue: tuple[CatalogueEntry, ...],
    call: str,
    operation: str,
    body: Callable[[str], dict[str, Any]],
) -> None:
    expectation, present, check = EXPECTATIONS[call]
    for document in documents(60, start=300_000_000):
        answer: dict[str, Any] = await getattr(contrary, call)(body(document))
        assert_valid_answer(operation, answer)
        expected = expectation(derive_profile(document, catalogue), present)
        differences = check(expected, answer)
        assert 1 <= differences <= 3, document


async def test_at_half_rate_exactly_the_picked_people_disagree(
    clock: FakeClock, catalogue: tuple[CatalogueEntry, ...]
) -> None:
    settings = LegacySimulatorSettings(disagreement_rate=0.5, disagreement_key=KEY)
    picker = Disagreement(rate=0.5, key=KEY, max_score_shift=settings.max_score_shift)
    async with open_legacy(make_legacy_app(settings, clock=clock)) as legacy:
        for document in documents(80, start=400_000_000):
            answer = await legacy.datatrust({**DT_EXAMPLE, "Document": document, "SessionId": "s"})
            expected = expected_datatrust(derive_profile(document, catalogue), EVERYTHING)
            differences = check_datatrust(expected, answer)
            assert (differences > 0) == picker.selects(document), document


async def test_a_disagreeing_person_disagrees_the_same_way_every_time(contrary: Legacy) -> None:
    body = {**DT_EXAMPLE, "Document": documents(1, start=123_123_123)[0]}
    first, second = await contrary.datatrust(body), await contrary.datatrust(body)
    assert {k: v for k, v in first.items() if k not in {"transactionId", "createdAt"}} == {
        k: v for k, v in second.items() if k not in {"transactionId", "createdAt"}
    }
