"""Checked reads: a response mapping checks what it reads of PDT's answer, and nothing else."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from proxy.errors import UpstreamMalformed
from proxy.mapping.paths import MISSING, parse_path
from proxy.mapping.reads import ReadRefused, compile_checked_getter

from .support import operation, schema_from

CREATE = "datatrust.transaction.create"
FFR_SCORE = "ffr.score"
STAMP = "2026-11-22T10:00:00Z"
TX = "2b0c6a0e-0000-4000-8000-0000000000aa"


def _answer() -> dict[str, Any]:
    """A complete PDT all-results view (the pack strategy's view has this same shape)."""
    return {
        "transaction": {
            "id": TX,
            "createdAt": "2026-11-22T07:00:00.5-03:00",
            "referenceDate": STAMP,
            "documentType": "CPF",
            "document": "12345678909",
            "identifierId": "pedido-9",
        },
        "scores": [{"value": 41.257, "reason": "Initial", "createdAt": STAMP}],
        "ratings": [
            {"value": 3, "reason": "Linked", "createdAt": STAMP, "relatedTo": ["Email", "Document"]},
        ],
        "insights": [
            {
                "code": "GER2100",
                "description": "PDT text",
                "type": "Fraude",
                "category": "document",
                "relevance": "Alerta",
                "relatedTo": ["Document"],
            }
        ],
    }


LEGACY: dict[str, Any] = {
    "transactionId": TX,
    "identifierId": "pedido-9",
    "createdAt": "2026-11-22T10:00:00.500Z",
    "score": 41.26,
    "ratings": [{"relatedTo": "CPF_EMAIL", "value": "High"}],
    "insights": [
        {"code": "DT2100", "description": "CPF involved in fraud less than 1 month ago", "type": "Alert"}
    ],
}


def _without(document: dict[str, Any], *path: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return changed


def _with(document: dict[str, Any], value: Any, *path: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    node: Any = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


def test_the_complete_answer_maps() -> None:
    legacy, _ = operation(CREATE).to_legacy(_answer())
    assert legacy == LEGACY


# Fields PDT's contract requires but no Data Trust v1 rule reads: their absence (or
# anything PDT adds) no longer fails every request with a 502.
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_without(_answer(), "transaction", "referenceDate"), id="no-referenceDate"),
        pytest.param(_without(_answer(), "transaction", "document"), id="no-document"),
        pytest.param(_without(_answer(), "transaction", "documentType"), id="no-documentType"),
        pytest.param(_with(_answer(), "RG", "transaction", "documentType"), id="unknown-documentType"),
        pytest.param(_without(_answer(), "scores", 0, "reason"), id="score-without-reason"),
        pytest.param(_without(_answer(), "ratings", 0, "createdAt"), id="rating-without-createdAt"),
        pytest.param(_without(_answer(), "insights", 0, "category"), id="insight-without-category"),
        pytest.param(_with(_answer(), 7, "insights", 0, "relevance"), id="insight-relevance-mistyped"),
        pytest.param(_with(_answer(), {"new": True}, "transaction", "address"), id="address-new-member"),
        pytest.param(_with(_answer(), [1, 2], "newModule"), id="unknown-module"),
    ],
)
def test_what_no_rule_reads_is_not_checked(answer: dict[str, Any]) -> None:
    legacy, _ = operation(CREATE).to_legacy(answer)
    assert legacy == LEGACY


# Fields a rule reads: absent where the contract requires them, or not of its type,
# they are still PDT's malformed answer (the product's 502 family shape).
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_without(_answer(), "transaction", "id"), id="no-transaction-id"),
        pytest.param(_with(_answer(), "", "transaction", "id"), id="empty-transaction-id"),
        pytest.param(_without(_answer(), "transaction", "createdAt"), id="no-createdAt"),
        pytest.param(_with(_answer(), 1700000000, "transaction", "createdAt"), id="createdAt-a-number"),
        pytest.param(_with(_answer(), 12, "transaction", "identifierId"), id="identifierId-a-number"),
        pytest.param(_with(_answer(), "41", "scores", 0, "value"), id="score-a-string"),
        pytest.param(_without(_answer(), "scores", 0, "value"), id="score-without-value"),
        pytest.param(_without(_answer(), "ratings", 0, "relatedTo"), id="rating-without-relatedTo"),
        pytest.param(_with(_answer(), ["Email", 3], "ratings", 0, "relatedTo"), id="rating-pair-mistyped"),
        pytest.param(_without(_answer(), "insights", 0, "code"), id="insight-without-code"),
        pytest.param(_with(_answer(), "GER2100", "insights", 0), id="insight-a-string"),
        pytest.param(_with(_answer(), {"code": "GER2100"}, "insights"), id="insights-an-object"),
        pytest.param(_with(_answer(), "x", "transaction"), id="transaction-a-string"),
        pytest.param(_without(_answer(), "transaction"), id="no-transaction"),
        pytest.param([_answer()], id="answer-a-list"),
    ],
)
def test_what_a_rule_reads_is_checked(answer: Any) -> None:
    with pytest.raises(UpstreamMalformed):
        operation(CREATE).to_legacy(answer)


def test_an_ffr_insight_needs_only_its_code() -> None:
    """FFR reads an insight's code alone (sections, order and text come from its table)."""
    complete = _answer()
    bare = _with(_answer(), [{"code": "GER2100"}], "insights")
    assert operation(FFR_SCORE).to_legacy(bare)[0] == operation(FFR_SCORE).to_legacy(complete)[0]


# --- compile_checked_getter on a small contract ---------------------------------------------

CONTRACT: dict[str, Any] = {
    "type": "object",
    "required": ["a"],
    "definitions": {"item": {"type": "object", "required": ["k"], "properties": {"k": {"type": "integer"}}}},
    "properties": {
        "a": {"type": "object", "required": ["b"], "properties": {"b": {"type": "string", "minLength": 2}}},
        "opt": {"type": ["object", "null"], "required": ["c"], "properties": {"c": {"type": "boolean"}}},
        "items": {"type": "array", "items": {"$ref": "#/definitions/item"}},
        "free": {"description": "any value"},
        "z": {"type": "integer"},
    },
    "allOf": [{"required": ["z"]}],
}
GOOD = {"a": {"b": "xy"}, "opt": {"c": True}, "items": [{"k": 1}, {"k": 2.0}], "z": 0, "free": [1]}
REFUSED = ReadRefused


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        pytest.param("a.b", GOOD, "xy", id="present"),
        pytest.param("a.b", {"a": {"b": "x"}}, REFUSED, id="leaf-breaks-minLength"),
        pytest.param("a.b", {"a": {}}, REFUSED, id="required-leaf-absent"),
        pytest.param("a.b", {}, REFUSED, id="required-parent-absent"),
        pytest.param("a.b", {"a": "xy"}, REFUSED, id="parent-not-an-object"),
        pytest.param("a.b", {"a": None}, REFUSED, id="parent-null-where-not-allowed"),
        pytest.param("a.b", [], REFUSED, id="root-not-an-object"),
        pytest.param("opt.c", {"a": {"b": "xy"}}, MISSING, id="optional-parent-absent"),
        pytest.param("opt.c", {"opt": None}, MISSING, id="optional-parent-null"),
        pytest.param("opt.c", {"opt": {}}, REFUSED, id="required-under-optional-absent"),
        pytest.param("opt.c", {"opt": {"c": 1}}, REFUSED, id="boolean-given-an-integer"),
        pytest.param("items[-1].k", GOOD, 2.0, id="integral-float-is-an-integer"),
        pytest.param("items[-1].k", {"items": [{"k": True}]}, REFUSED, id="bool-is-not-an-integer"),
        pytest.param("items[-1].k", {"items": [{"k": 1.5}]}, REFUSED, id="fraction-is-not-an-integer"),
        pytest.param("items[0].k", {"items": []}, MISSING, id="index-past-the-end"),
        pytest.param("items[0].k", {"items": [{}]}, REFUSED, id="required-through-a-ref"),
        pytest.param("z", {"a": {}}, REFUSED, id="required-by-allOf"),
        pytest.param("free", {"free": {"any": "thing"}}, {"any": "thing"}, id="unconstrained"),
        pytest.param("free", {"a": {}, "unknown": 1}, MISSING, id="extra-members-ignored"),
    ],
)
def test_checked_getter(tmp_path: Path, path: str, document: Any, expected: Any) -> None:
    get = compile_checked_getter(schema_from(tmp_path, CONTRACT), (), parse_path(path), check_value=True)
    if expected is REFUSED:
        with pytest.raises(ReadRefused) as caught:
            get(document)
        # The path a rule reads, never the value PDT sent.
        assert caught.value.path == path
        assert repr(document) not in str(caught.value)
    else:
        assert get(document) == expected


def test_a_walked_list_is_not_checked_item_by_item(tmp_path: Path) -> None:
    """An each/pick source: its items are checked by the reads of their own fields."""
    get = compile_checked_getter(schema_from(tmp_path, CONTRACT), (), ("items",), check_value=False)
    assert get({"items": [{"wrong": "shape"}]}) == [{"wrong": "shape"}]
