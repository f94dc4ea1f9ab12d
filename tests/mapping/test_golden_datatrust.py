"""Golden pairs for Data Trust v1: every rule and every code-table row, both directions.

``GOLDEN`` is the registry: each case names the rule ids it exercises, and
``test_every_rule_has_a_golden_pair`` fails when an operation file gains a rule no
case exercises.
"""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import UpstreamMalformed, ValidationFailed

from .support import (
    DATATRUST,
    PRODUCT,
    Golden,
    golden_case,
    golden_cases,
    make_cnpj,
    operation,
    rule_ids_in_operations,
    run_golden,
    shipped_catalog,
)

CREATE = "datatrust.transaction.create"
SEND = "datatrust.token.send"
VALIDATE = "datatrust.token.validate"
CNPJ = make_cnpj("112223330001")
STAMP = "2026-11-22T10:00:00Z"


def transaction(**extra: Any) -> dict[str, Any]:
    return {
        "id": "2b0c6a0e-0000-4000-8000-000000000001",
        "createdAt": "2026-11-22T07:00:00.1234567-03:00",
        "referenceDate": STAMP,
        "documentType": "CPF",
        "document": "12345678909",
        **extra,
    }


def score(value: float, reason: str = "Initial") -> dict[str, Any]:
    return {"value": value, "reason": reason, "createdAt": STAMP}


def rating(value: int, *related: str) -> dict[str, Any]:
    return {"value": value, "reason": "Linked", "createdAt": STAMP, "relatedTo": list(related)}


def insight(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "description": "PDT text",
        "type": "Fraude",
        "category": "document",
        "relevance": "Alerta",
        "relatedTo": ["Document"],
    }


# The golden pairs are data: mappings/<product>/examples/golden.yaml.
GOLDEN: tuple[Golden, ...] = golden_cases(DATATRUST)
# The example request of spec/datatrust-v1.md's field table, in its PascalCase.
SPEC_EXAMPLE = golden_case(GOLDEN, "spec-example")


@pytest.mark.parametrize("case", GOLDEN, ids=lambda case: case.name)
def test_golden(case: Golden) -> None:
    got, unmapped = run_golden(case)
    assert got == case.expected
    assert unmapped == case.unmapped
    if case.direction == "request" and operation(case.operation).pdt_request is not None:
        pdt_request = operation(case.operation).pdt_request
        assert pdt_request is not None
        assert pdt_request.is_valid(got)


def _keys(value: Any, change: Any) -> Any:
    if isinstance(value, dict):
        return {change(key): _keys(item, change) for key, item in value.items()}
    return value


@pytest.mark.parametrize("change", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swapcase"])
def test_spec_example_binds_in_any_case(change: Any) -> None:
    op = operation(CREATE)
    assert op.to_pdt(op.parse_request(_keys(SPEC_EXAMPLE.given, change))) == SPEC_EXAMPLE.expected


@pytest.mark.parametrize(
    ("body", "channel"),
    [
        pytest.param({"Channel": "Sms"}, "sms", id="Sms"),
        pytest.param({"channel": "SMS"}, "sms", id="SMS"),
        pytest.param({"CHANNEL": "sms"}, "sms", id="sms"),
        pytest.param({"Channel": "Email"}, "email", id="Email"),
        pytest.param({"Channel": "EMAIL"}, "email", id="EMAIL"),
        pytest.param({"Channel": "email"}, "email", id="email"),
    ],
)
@pytest.mark.parametrize("name", [SEND, VALIDATE])
def test_channels(name: str, body: dict[str, Any], channel: str) -> None:
    op = operation(name)
    legacy = op.parse_request({**body, "Value": "1234"} if name == VALIDATE else body)
    assert op.channel_of(legacy) == channel
    if name == SEND:
        assert op.to_pdt(legacy) == {}


@pytest.mark.parametrize(
    ("name", "body", "field_name"),
    [
        pytest.param(CREATE, {}, "Document", id="no-document"),
        pytest.param(CREATE, {"Document": "123.456.789-00"}, "Document", id="bad-cpf"),
        pytest.param(
            CREATE, {"Document": "12345678909", "DocumentType": "CNPJ"}, "Document", id="cpf-as-cnpj"
        ),
        pytest.param(
            CREATE,
            {"Document": "12345678909", "Phone": {"AreaCode": "01", "Number": "1234"}},
            "Phone.AreaCode",
            id="bad-area-code",
        ),
        pytest.param(SEND, {"Channel": "Fax"}, "Channel", id="unknown-channel"),
        pytest.param(VALIDATE, {"Channel": "Sms", "Value": "12"}, "Value", id="short-token"),
    ],
)
def test_invalid_requests(name: str, body: dict[str, Any], field_name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        operation(name).parse_request(body)
    assert field_name in caught.value.field_errors


@pytest.mark.parametrize(
    ("name", "answer"),
    [
        pytest.param(CREATE, {"transaction": transaction(), "scores": []}, id="no-score"),
        pytest.param(CREATE, {"transaction": transaction()}, id="scores-absent"),
        pytest.param(
            CREATE,
            {"transaction": transaction(createdAt="2026-02-30T00:00:00Z"), "scores": [score(1)]},
            id="impossible-date",
        ),
        pytest.param(CREATE, {"transaction": {"id": "x"}, "scores": [score(1)]}, id="schema-violation"),
        pytest.param(SEND, {"status": "Sent", "createdAt": STAMP}, id="unknown-token-status"),
        pytest.param(
            VALIDATE, {"status": "Valid", "type": "Whatsapp", "createdAt": STAMP}, id="unknown-token-type"
        ),
    ],
)
def test_unmappable_answers(name: str, answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamMalformed):
        operation(name).to_legacy(answer)


# --- one pair per code-table row -------------------------------------------------------------


def _rows(table: str) -> list[tuple[str, dict[str, str]]]:
    rows = shipped_catalog().products[PRODUCT].tables[table].rows
    return [(key, dict(row)) for key, row in rows.items()]


def _answer(**modules: Any) -> dict[str, Any]:
    return {"transaction": transaction(), "scores": [score(10)], **modules}


@pytest.mark.parametrize(("code", "row"), _rows("insights"), ids=[key for key, _ in _rows("insights")])
def test_insight_row(code: str, row: dict[str, str]) -> None:
    legacy, trace = operation(CREATE).to_legacy(_answer(insights=[insight(code)]))
    assert legacy["insights"] == [
        {"code": row["legacy_code"], "description": row["description"], "type": row["type"]}
    ]
    assert trace.unmapped == []


@pytest.mark.parametrize(
    ("pair", "row"), _rows("rating-pairs"), ids=[key for key, _ in _rows("rating-pairs")]
)
def test_rating_pair_row(pair: str, row: dict[str, str]) -> None:
    # PDT's order within the pair is not guaranteed: send it reversed.
    legacy, trace = operation(CREATE).to_legacy(_answer(ratings=[rating(3, *reversed(pair.split("+")))]))
    assert legacy["ratings"] == [{"relatedTo": row["legacy"], "value": "High"}]
    assert trace.unmapped == []


@pytest.mark.parametrize(
    ("value", "row"), _rows("rating-values"), ids=[key for key, _ in _rows("rating-values")]
)
def test_rating_value_row(value: str, row: dict[str, str]) -> None:
    legacy, trace = operation(CREATE).to_legacy(_answer(ratings=[rating(int(value), "Document", "Email")]))
    assert legacy["ratings"] == [{"relatedTo": "CPF_EMAIL", "value": row["legacy"]}]
    assert trace.unmapped == []


def test_every_table_has_rows() -> None:
    for table in ("insights", "rating-pairs", "rating-values"):
        assert _rows(table), table


# --- the registry ----------------------------------------------------------------------------


def test_every_rule_has_a_golden_pair() -> None:
    in_files = rule_ids_in_operations(DATATRUST)
    exercised = set().union(*(case.rules for case in GOLDEN))
    assert len(in_files) >= 25
    assert in_files - exercised == set(), "rules without a golden pair"
    assert exercised - in_files == set(), "golden cases naming rules that no longer exist"


def test_every_operation_has_golden_pairs_in_each_direction_it_maps() -> None:
    for route in shipped_catalog().products[PRODUCT].routes:
        op = route.operation
        directions = {case.direction for case in GOLDEN if case.operation == op.name}
        assert "response" in directions, op.name
        if op.request_mapper is not None:
            assert "request" in directions, op.name
