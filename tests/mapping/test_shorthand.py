"""The short forms of a rule list and what each expands to (proxy/mapping/shorthand.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from proxy.mapping.shorthand import expand_operation, expand_rules, operation_view
from proxy.mapping.spec import FieldRule, ResponseSpec

CODE_SECTION = {"from": "code", "transform": {"table": {"name": "codes", "column": "section"}}}
BY_WEIGHT = {"from": "code", "transform": "integer", "descending": True}
ITEM = [{"id": "item.code", "to": "Code", "from": "code"}]

EXPANSIONS = [
    pytest.param(
        [{"to": "score", "from": "scores[-1].value"}],
        [{"to": "score", "from": "scores[-1].value", "id": "score"}],
        id="id-defaults-to-target",
    ),
    pytest.param(
        [{"id": "dt.resp.score", "to": "score", "from": "value"}],
        [{"id": "dt.resp.score", "to": "score", "from": "value"}],
        id="explicit-id-kept",
    ),
    pytest.param(
        [{"to": "ratings", "from": "ratings", "each": {"fields": [{"to": "value", "from": "value"}]}}],
        [
            {
                "to": "ratings",
                "from": "ratings",
                "id": "ratings",
                "each": {"fields": [{"to": "value", "from": "value", "id": "ratings[].value"}]},
            }
        ],
        id="item-rule-id-is-its-full-path",
    ),
    pytest.param(
        [{"to": "phone", "from": "Phones", "pick": {"fields": [{"to": "number", "from": "Number"}]}}],
        [
            {
                "to": "phone",
                "from": "Phones",
                "id": "phone",
                "pick": {"fields": [{"to": "number", "from": "Number", "id": "phone.number"}]},
            }
        ],
        id="picked-rule-id-is-its-full-path",
    ),
    pytest.param(
        [{"flat": {"email": "Email", "document": ["Cpf", "digits"], "name": {"from": "Name", "id": "n"}}}],
        [
            {"to": "email", "from": "Email", "id": "email"},
            {"to": "document", "from": "Cpf", "transform": "digits", "id": "document"},
            {"to": "name", "from": "Name", "id": "n"},
        ],
        id="flat-rows-in-order",
    ),
    pytest.param(
        [{"flat": {"a": "A"}}, {"to": "b", "from": "B"}, {"flat": {"c": ["C", [{"round": 0}]]}}],
        [
            {"to": "a", "from": "A", "id": "a"},
            {"to": "b", "from": "B", "id": "b"},
            {"to": "c", "from": "C", "transform": [{"round": 0}], "id": "c"},
        ],
        id="flat-tables-between-full-rules",
    ),
    pytest.param(
        [{"to": "list", "from": "xs", "each": {"fields": [{"flat": {"Code": "code"}}]}}],
        [
            {
                "to": "list",
                "from": "xs",
                "id": "list",
                "each": {"fields": [{"to": "Code", "from": "code", "id": "list[].Code"}]},
            }
        ],
        id="flat-table-of-item-rules",
    ),
    pytest.param(
        [
            {
                "group": {
                    "from": "insights",
                    "default": [],
                    "by": CODE_SECTION,
                    "order_by": BY_WEIGHT,
                    "fields": ITEM,
                    "sections": [
                        {"to": "Reports.Negative", "id": "neg", "equals": "Negative", "limit": 7},
                        {"to": "Alerts", "in": ["Alert", "Attack"], "description": "why"},
                    ],
                }
            }
        ],
        [
            {
                "from": "insights",
                "default": [],
                "to": "Reports.Negative",
                "id": "neg",
                "each": {
                    "where": {**CODE_SECTION, "equals": "Negative"},
                    "order_by": BY_WEIGHT,
                    "limit": 7,
                    "fields": ITEM,
                },
            },
            {
                "from": "insights",
                "default": [],
                "to": "Alerts",
                "description": "why",
                "id": "Alerts",
                "each": {
                    "where": {**CODE_SECTION, "in": ["Alert", "Attack"]},
                    "order_by": BY_WEIGHT,
                    "fields": ITEM,
                },
            },
        ],
        id="group-one-list-per-section",
    ),
    pytest.param(
        [
            {
                "group": {
                    "from": "xs",
                    "by": CODE_SECTION,
                    "limit": 3,
                    "fields": ITEM,
                    "sections": [{"to": "a"}],
                }
            }
        ],
        [{"from": "xs", "to": "a", "id": "a", "each": {"where": CODE_SECTION, "limit": 3, "fields": ITEM}}],
        id="group-limit-shared-unless-a-section-sets-one",
    ),
    pytest.param("not a list", "not a list", id="not-a-list-left-to-the-model"),
    pytest.param([{"from": "x"}], [{"from": "x"}], id="rule-without-target-left-to-the-model"),
]


@pytest.mark.parametrize(("raw", "expanded"), EXPANSIONS)
def test_expansion(raw: Any, expanded: Any) -> None:
    assert expand_rules(raw) == expanded


def test_expansion_leaves_its_input_alone() -> None:
    raw = [{"flat": {"a": "A"}}, {"to": "l", "from": "xs", "each": {"fields": [{"to": "c", "from": "c"}]}}]
    before = repr(raw)
    expand_rules(raw)
    assert repr(raw) == before


def test_expansion_of_expanded_rules_changes_nothing() -> None:
    # The nested lists are expanded again when their own models parse them.
    once = expand_rules(EXPANSIONS[7].values[0])
    assert expand_rules(once) == once


MALFORMED = [
    pytest.param([{"flat": {}}], "'flat' takes a non-empty mapping", id="empty-flat"),
    pytest.param([{"flat": ["a", "b"]}], "'flat' takes a non-empty mapping", id="flat-list"),
    pytest.param([{"flat": {"a": 1}}], "flat row 'a': a row is a source path", id="row-number"),
    pytest.param([{"flat": {"a": ["A", "digits", "x"]}}], "flat row 'a': a row is", id="row-three-items"),
    pytest.param(
        [{"flat": {"a": {"to": "b", "from": "A"}}}], "flat row 'a': the key is the target", id="row-to"
    ),
    pytest.param([{"group": []}], "'group' takes a mapping", id="group-list"),
    pytest.param(
        [{"group": {"by": CODE_SECTION, "fields": ITEM}}], "needs a non-empty 'sections'", id="no-sections"
    ),
    pytest.param([{"group": {"fields": ITEM, "sections": [{"to": "a"}]}}], "'group' needs 'by'", id="no-by"),
    pytest.param(
        [{"group": {"by": CODE_SECTION, "sections": [{"to": "a"}]}}], "needs 'fields'", id="no-fields"
    ),
    pytest.param(
        [{"group": {"by": CODE_SECTION, "fields": ITEM, "sections": [{"equals": 1}]}}],
        "a group section is a mapping with 'to'",
        id="section-without-target",
    ),
    pytest.param(
        [{"group": {"by": CODE_SECTION, "fields": ITEM, "sections": [{"to": "a", "from": "x"}]}}],
        "group section 'a': unknown keys ['from']",
        id="section-unknown-key",
    ),
]


@pytest.mark.parametrize(("raw", "message"), MALFORMED)
def test_malformed_short_forms_are_refused(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        expand_rules(raw)
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("(", r"\(")):
        ResponseSpec.model_validate({"schema": "a.json", "source_schema": "b.json", "rules": raw})


def test_the_model_parses_the_short_forms_into_full_rules() -> None:
    spec = ResponseSpec.model_validate(
        {
            "schema": "a.json",
            "source_schema": "b.json",
            "rules": [
                {"flat": {"TransactionID": {"from": "transaction.id", "required": True}, "Score": "score"}},
                {"to": "Items", "from": "items", "each": {"fields": [{"flat": {"Code": "code"}}]}},
            ],
        }
    )
    assert [(rule.id, rule.to, rule.source, rule.required) for rule in spec.rules] == [
        ("TransactionID", "TransactionID", "transaction.id", True),
        ("Score", "Score", "score", False),
        ("Items", "Items", "items", False),
    ]
    each = spec.rules[2].each
    assert each is not None
    assert [(rule.id, rule.to) for rule in each.fields] == [("Items[].Code", "Code")]


def test_a_lone_rule_without_id_is_named_by_its_target() -> None:
    assert FieldRule.model_validate({"to": "phone.areaCode", "from": "DDD"}).id == "phone.areaCode"


def test_operation_view_writes_out_both_rule_lists_and_keeps_the_rest() -> None:
    raw = {
        "operation": "x",
        "request": {"schema": "r.json", "rules": [{"flat": {"a": "A"}}]},
        "response": {"schema": "s.json", "rules_from": "other.yaml"},
    }
    assert expand_operation(raw) == {
        "operation": "x",
        "request": {"schema": "r.json", "rules": [{"to": "a", "from": "A", "id": "a"}]},
        "response": {"schema": "s.json", "rules_from": "other.yaml"},
    }
    broken: dict[str, Any] = {"request": {"rules": [{"flat": {}}]}}
    assert operation_view(broken) is broken


@pytest.mark.parametrize(
    ("rule", "accepted"),
    [
        pytest.param({"id": "dt.req.name", "to": "name"}, True, id="kebab-name"),
        pytest.param({"to": "Reports.Negative"}, True, id="defaulted-to-the-target"),
        pytest.param({"id": "Reports.Negative[].Code", "to": "Code"}, True, id="defaulted-nested-path"),
        pytest.param({"id": "DT.Req.Name", "to": "name"}, False, id="capitals-typo"),
        pytest.param({"id": "ratings[].value", "to": "relatedTo"}, False, id="another-rule's-path"),
        pytest.param({"id": "dt.req/name", "to": "name"}, False, id="slash"),
    ],
)
def test_an_id_is_a_name_or_the_target_path(rule: dict[str, Any], accepted: bool) -> None:
    raw = {**rule, "from": "x"}
    if accepted:
        assert FieldRule.model_validate(raw).id == rule.get("id", rule["to"])
    else:
        with pytest.raises(ValidationError):
            FieldRule.model_validate(raw)
