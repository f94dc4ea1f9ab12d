"""Field-by-field comparison of two legacy answers: tolerances, sets, provenance, masking."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.comparison.engine import STATUS_FIELD, Comparison, Difference, SetOverlap, compare_answers
from proxy.comparison.rules import OperationRules

RULES = OperationRules(
    operation="op",
    ignore=frozenset({"id", "createdAt"}),
    tolerances={"score": 5.0},
    sets={"insights": "code", "ratings": "relatedTo"},
    matrices=frozenset({"ratings[].value"}),
    min_compared=3,
    provenance={
        "score": "r.score",
        "ratings": "r.ratings",
        "ratings[].value": "r.rating.value",
        "insights": "r.insights",
        "insights[].type": "r.insight.type",
        "document": "r.document",
        "flags": "r.flags",
    },
)


def answer(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "legacy-1",
        "createdAt": "2026-11-22T10:00:00.000Z",
        "score": 40.0,
        "ratings": [{"relatedTo": "CPF_EMAIL", "value": "High"}, {"relatedTo": "CPF_PHONE", "value": "Low"}],
        "insights": [{"code": "A1", "type": "Alert"}, {"code": "P1", "type": "Positive"}],
    }
    body.update(changes)
    return body


def run(
    legacy: Any, pdt: Any, rules: OperationRules = RULES, statuses: tuple[int, int] = (200, 200)
) -> Comparison:
    return compare_answers(rules, statuses[0], legacy, statuses[1], pdt)


def test_identical_answers_match_and_count_what_was_compared() -> None:
    result = run(answer(), answer(id="pdt-9", createdAt="other"))
    assert result.matched
    assert not result.thin
    # score + 2 rating members + their values + 2 insight members + their types
    assert result.compared == 1 + 2 + 2 + 2 + 2
    assert result.numeric == {"score": (40.0, 40.0)}
    assert result.sets == {"ratings": SetOverlap(2, 0, 0), "insights": SetOverlap(2, 0, 0)}
    assert result.pairs == {"ratings[].value": [("High", "High"), ("Low", "Low")]}


@pytest.mark.parametrize(
    ("pdt", "expected"),
    [
        pytest.param(answer(score=44.9), [], id="within-tolerance"),
        pytest.param(answer(score=35.0), [], id="tolerance-is-inclusive"),
        pytest.param(
            answer(score=46.0),
            [Difference("score", "tolerance", "r.score", 40.0, 46.0, delta=6.0)],
            id="beyond-tolerance",
        ),
        pytest.param(
            answer(insights=[{"code": "P1", "type": "Positive"}, {"code": "A1", "type": "Alert"}]),
            [],
            id="set-order-is-not-a-difference",
        ),
        pytest.param(
            answer(insights=[{"code": "A1", "type": "Alert"}]),
            [
                Difference(
                    "insights[]", "missing", "r.insights", {"code": "P1", "type": "Positive"}, None, item="P1"
                )
            ],
            id="member-missing-from-pdt",
        ),
        pytest.param(
            answer(insights=[*answer()["insights"], {"code": "N9", "type": "Negative"}]),
            [
                Difference(
                    "insights[]", "extra", "r.insights", None, {"code": "N9", "type": "Negative"}, item="N9"
                )
            ],
            id="member-only-in-pdt",
        ),
        pytest.param(
            answer(insights=[{"code": "A1", "type": "Negative"}, {"code": "P1", "type": "Positive"}]),
            [Difference("insights[].type", "value", "r.insight.type", "Alert", "Negative", item="A1")],
            id="field-of-a-shared-member",
        ),
        pytest.param(
            answer(
                ratings=[
                    {"relatedTo": "CPF_EMAIL", "value": "Medium"},
                    {"relatedTo": "CPF_PHONE", "value": "Low"},
                ]
            ),
            [Difference("ratings[].value", "value", "r.rating.value", "High", "Medium", item="CPF_EMAIL")],
            id="rating-one-step-apart",
        ),
    ],
)
def test_differences(pdt: dict[str, Any], expected: list[Difference]) -> None:
    assert list(run(answer(), pdt).differences) == expected


def test_matrix_pairs_are_collected_whether_or_not_they_agree() -> None:
    pdt = answer(
        ratings=[{"relatedTo": "CPF_EMAIL", "value": "Medium"}, {"relatedTo": "CPF_PHONE", "value": "Low"}]
    )
    assert run(answer(), pdt).pairs == {"ratings[].value": [("High", "Medium"), ("Low", "Low")]}


def test_numeric_pairs_are_kept_even_beyond_tolerance() -> None:
    assert run(answer(), answer(score=90.0)).numeric == {"score": (40.0, 90.0)}


@pytest.mark.parametrize(
    ("legacy", "pdt", "field", "kind"),
    [
        pytest.param({"flags": True}, {"flags": 1}, "flags", "value", id="bool-is-not-one"),
        pytest.param({"flags": "1"}, {"flags": 1}, "flags", "value", id="string-is-not-number"),
        pytest.param({"flags": None}, {"flags": 0}, "flags", "value", id="null-is-not-zero"),
        pytest.param({"flags": 1}, {}, "flags", "missing", id="absent-in-pdt"),
        pytest.param({}, {"flags": 1}, "flags", "extra", id="absent-in-legacy"),
        pytest.param({"flags": [1, 2]}, {"flags": [1]}, "flags[]", "missing", id="ordered-list-shorter"),
        pytest.param(
            {"flags": [1, 2]}, {"flags": [2, 1]}, "flags[]", "value", id="ordered-list-order-matters"
        ),
    ],
)
def test_plain_values(legacy: dict[str, Any], pdt: dict[str, Any], field: str, kind: str) -> None:
    differences = run(legacy, pdt).differences
    assert differences
    assert {(difference.field, difference.kind) for difference in differences} == {(field, kind)}
    assert differences[0].rule == "r.flags"


def test_integer_and_float_that_agree_are_equal() -> None:
    assert run({"flags": 1}, {"flags": 1.0}).matched


def test_ignored_fields_are_not_compared_or_counted() -> None:
    result = run({"id": "a", "createdAt": "x", "score": 1}, {"id": "b", "score": 1})
    assert result.matched
    assert result.compared == 1


def test_a_comparison_covering_too_little_is_thin() -> None:
    result = run({"id": "a", "score": 1}, {"id": "b", "score": 1})
    assert result.matched
    assert result.thin


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param((400, 400), (), id="same-error"),
        pytest.param((200, 503), (Difference(STATUS_FIELD, "status", None, 200, 503),), id="pdt-failed"),
        pytest.param((404, 200), (Difference(STATUS_FIELD, "status", None, 404, 200),), id="legacy-failed"),
    ],
)
def test_error_answers_compare_by_status_only(
    statuses: tuple[int, int], expected: tuple[Difference, ...]
) -> None:
    result = run({"message": "legacy words"}, {"message": "other words"}, statuses=statuses)
    assert result.differences == expected
    assert result.compared == 1


def test_personal_data_in_differences_is_masked() -> None:
    legacy = {"document": "12345678909", "email": "maria@example.com", "Name": "Maria da Silva"}
    pdt = {"document": "98765432100", "email": "joao@example.com", "Name": "Joao"}
    result = run(legacy, pdt)
    text = repr(result.differences)
    for secret in ("12345678909", "98765432100", "maria@example.com", "joao@example.com", "Maria", "Joao"):
        assert secret not in text
    assert {difference.field for difference in result.differences} == {"document", "email", "Name"}
    assert [d.rule for d in result.differences if d.field == "document"] == ["r.document"]


def test_personal_data_inside_one_sided_items_is_masked() -> None:
    rules = OperationRules("op", frozenset(), {}, {"people": "id"}, frozenset(), 1, {})
    result = run({"people": [{"id": "1", "email": "maria@example.com"}]}, {"people": []}, rules)
    assert result.differences[0].kind == "missing"
    assert "maria@example.com" not in repr(result.differences)


def test_overlap_jaccard() -> None:
    assert SetOverlap(2, 1, 1).jaccard == 0.5
    assert SetOverlap(0, 0, 0).jaccard == 1.0


def test_comparisons_round_trip_through_json() -> None:
    import orjson

    from proxy.comparison.codec import comparison_from_json, comparison_to_json

    pdt = answer(
        score=60.0,
        ratings=[{"relatedTo": "CPF_EMAIL", "value": "Medium"}],
        insights=[{"code": "A1", "type": "Negative"}, {"code": "N9", "type": "Alert"}],
        document="98765432100",
    )
    original = run(answer(document="12345678909"), pdt)
    assert len(original.differences) >= 4
    restored = comparison_from_json(orjson.loads(orjson.dumps(comparison_to_json(original))))
    assert restored == original
