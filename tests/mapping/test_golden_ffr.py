"""Golden pairs for Financial Fraud Radar: every rule and every code-table row, both directions.

``GOLDEN`` is the registry: each case names the rule ids it exercises, and
``test_every_rule_has_a_golden_pair`` fails when ``operations/score.yaml`` gains a rule
no case exercises. The report caps (7 negative, 3 positive, 3 attack alerts) and their
order are checked against ``tables/codes.csv`` read here with the csv module, not
through the proxy's table loader.
"""

from __future__ import annotations

import copy
import csv
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.errors import UpstreamMalformed, ValidationFailed
from proxy.mapping.catalog import load_catalog
from proxy.mapping.examples import load_example
from proxy.mapping.transforms import UnmappedCode

from .support import (
    FFR,
    V1_FAMILY,
    Golden,
    golden_case,
    golden_cases,
    operation,
    rule_ids_in_operations,
    run_golden,
    table_rows,
)

SCORE = "ffr.score"
PRODUCT = "ffr"
CPF = "01234567890"
STAMP = "2026-11-22T10:00:00Z"
TRANSACTION_ID = "2b0c6a0e-0000-4000-8000-0000000000ff"
SECTIONS = {"Negative": 7, "Positive": 3, "AttackAlert": 3}


# The documented example of spec/ffr.md, verbatim.
SPEC_EXAMPLE: dict[str, Any] = load_example("ffr", "score.request")
BASE_PDT: dict[str, Any] = {"documentType": "CPF", "document": CPF}


def request(**fields: Any) -> dict[str, Any]:
    return {"Cpf": CPF, **fields}


def pdt(**fields: Any) -> dict[str, Any]:
    return {**BASE_PDT, **fields}


def transaction(**extra: Any) -> dict[str, Any]:
    return {
        "id": TRANSACTION_ID,
        "createdAt": "2026-11-22T07:00:00.1234567-03:00",
        "referenceDate": STAMP,
        "documentType": "CPF",
        "document": CPF,
        **extra,
    }


def score(value: float) -> dict[str, Any]:
    return {"value": value, "reason": "Initial", "createdAt": STAMP}


def insight(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "description": "PDT text",
        "type": "Fraude",
        "category": "document",
        "relevance": "Alerta",
        "relatedTo": ["Document"],
    }


def answer(*codes: str, scores: tuple[float, ...] = (42,), **extra: Any) -> dict[str, Any]:
    return {
        "transaction": transaction(),
        "scores": [score(value) for value in scores],
        "insights": [insight(code) for code in codes],
        **extra,
    }


def legacy(
    score_value: int = 42,
    *,
    negative: tuple[tuple[str, str], ...] = (),
    positive: tuple[tuple[str, str], ...] = (),
    alerts: tuple[tuple[str, str], ...] = (),
    order_id: str | None = None,
) -> dict[str, Any]:
    def variables(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
        return [{"Code": code, "Description": text} for code, text in pairs]

    return {
        "OrderID": order_id,
        "TransactionID": TRANSACTION_ID,
        "Score": score_value,
        "Reports": {"Negative": variables(negative), "Positive": variables(positive)},
        "AttackAlerts": variables(alerts),
    }


# The golden pairs are data: mappings/<product>/examples/golden.yaml.
GOLDEN: tuple[Golden, ...] = golden_cases(FFR)
SPEC_EXAMPLE_PDT = golden_case(GOLDEN, "spec-example").expected


@pytest.mark.parametrize("case", GOLDEN, ids=lambda case: case.name)
def test_golden(case: Golden) -> None:
    got, unmapped = run_golden(case)
    assert got == case.expected
    assert unmapped == case.unmapped
    op = operation(case.operation)
    if case.direction == "request":
        assert op.pdt_request is not None
        assert op.pdt_request.is_valid(got), op.pdt_request.violations(got)


def _recase(value: Any, change: Callable[[str], str]) -> Any:
    """Every key changed, through nested objects and lists."""
    if isinstance(value, dict):
        return {change(key): _recase(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_recase(item, change) for item in value]
    return value


@pytest.mark.parametrize("change", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swapcase"])
def test_spec_example_binds_in_any_case(change: Callable[[str], str]) -> None:
    op = operation(SCORE)
    recased = _recase(SPEC_EXAMPLE, change)
    assert "Cpf" not in recased
    assert op.to_pdt(op.parse_request(recased)) == SPEC_EXAMPLE_PDT


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        pytest.param(1, True, id="1"),
        pytest.param(0, False, id="0"),
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param(None, None, id="null"),
    ],
)
@pytest.mark.parametrize("field_name", ["ValidatedTokenEmail", "ValidatedTokenSMS"])
def test_validated_token_flags(field_name: str, flag: Any, expected: bool | None) -> None:
    op = operation(SCORE)
    body = request(**{field_name: flag}, Phones=[{"DDD": "11", "Number": "999999999"}])
    mapped = op.to_pdt(op.parse_request(body))
    if field_name == "ValidatedTokenEmail":
        assert mapped.get("verifiedEmail", None) is expected
        assert "verified" not in mapped["phone"]
    else:
        assert mapped["phone"].get("verified", None) is expected
        assert "verifiedEmail" not in mapped


@pytest.mark.parametrize(("flag", "expected"), [(1.0, True), (0.0, False)], ids=["1.0", "0.0"])
def test_integral_float_flags_map_like_integers(flag: float, expected: bool) -> None:
    op = operation(SCORE)
    bound = op.parse_request(request(ValidatedTokenEmail=flag))
    assert op.to_pdt(bound) == pdt(verifiedEmail=expected)


def test_a_fractional_address_number_binds_as_its_text() -> None:
    # Json.NET reads a number into the string member as the literal's text (the
    # json-net profile's number_to_string), so 12.0 is "12.0", not the integer 12.
    op = operation(SCORE)
    bound = op.parse_request(request(Addresses=[{"Number": 12.0}]))
    assert op.to_pdt(bound) == pdt(address={"number": "12.0"})


# --- invalid requests: the field and the v1-family message -----------------------------------

_MESSAGES: dict[str, str] = yaml.safe_load((V1_FAMILY / "errors.yaml").read_text(encoding="utf-8"))[
    "validation_messages"
]


def family_message(key: str, field_name: str, **params: Any) -> str:
    return _MESSAGES[key].format(field=field_name.rsplit(".", 1)[-1], **params)


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        pytest.param({}, "Cpf", family_message("required", "Cpf"), id="no-cpf"),
        pytest.param(
            request(Cpf="012.345.678-91"),
            "Cpf",
            family_message("format.cpf", "Cpf"),
            id="bad-cpf-check-digits",
        ),
        pytest.param(
            request(Cpf="111.111.111-11"), "Cpf", family_message("format.cpf", "Cpf"), id="cpf-repeated"
        ),
        pytest.param(
            request(Cpf=" 012.345.678-90 "),
            "Cpf",
            family_message("maxLength", "Cpf", limit=14),
            id="cpf-too-long-with-spaces",
        ),
        pytest.param(
            request(Email="teste@teste"), "Email", family_message("format.email", "Email"), id="email-no-dot"
        ),
        pytest.param(
            request(Email="teste.teste.com"),
            "Email",
            family_message("format.email", "Email"),
            id="email-no-at",
        ),
        pytest.param(
            request(OrderDate="28/12/2017"),
            "OrderDate",
            family_message("format.date-or-date-time", "OrderDate"),
            id="order-date-dd-mm-yyyy",
        ),
        pytest.param(
            request(BirthDate="1990-02-30"),
            "BirthDate",
            family_message("format.date-or-date-time", "BirthDate"),
            id="birthdate-impossible",
        ),
        pytest.param(
            request(Addresses=[{"City": "São Paulo"}] * 21),
            "Addresses",
            family_message("maxItems", "Addresses", limit=20),
            id="addresses-21-items",
        ),
        pytest.param(
            request(Phones=[{"DDD": "11", "Number": "999999999"}] * 21),
            "Phones",
            family_message("maxItems", "Phones", limit=20),
            id="phones-21-items",
        ),
        pytest.param(
            request(Phones=[{"TypeID": 1, "Number": "999999999"}]),
            "Phones[0].DDD",
            family_message("required", "DDD"),
            id="phone-without-ddd",
        ),
        pytest.param(
            request(Phones=[{"DDD": "11", "Number": "999999999"}, {"DDD": "01", "Number": "999999999"}]),
            "Phones[1].DDD",
            family_message("pattern", "DDD"),
            id="second-phone-ddd-01",
        ),
        pytest.param(
            request(Addresses=[{"ZipCode": "0131010"}]),
            "Addresses[0].ZipCode",
            family_message("pattern", "ZipCode"),
            id="zip-code-7-digits",
        ),
        pytest.param(
            request(ValidatedTokenEmail=2),
            "ValidatedTokenEmail",
            family_message("enum", "ValidatedTokenEmail"),
            id="flag-2",
        ),
    ],
)
def test_invalid_requests(body: dict[str, Any], field_name: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        operation(SCORE).parse_request(body)
    assert dict(caught.value.field_errors) == {field_name: (message,)}


def test_order_date_a_rule_refuses_gets_a_family_message() -> None:
    op = operation(SCORE)
    bound = op.parse_request(request(OrderDate="9999-12-31T23:00:00"))
    with pytest.raises(ValidationFailed) as caught:
        op.to_pdt(bound)
    assert dict(caught.value.field_errors) == {"OrderDate": (family_message("default", "OrderDate"),)}


def test_modules_called() -> None:
    op = operation(SCORE)
    assert op.modules_for(pdt()) == ("scores", "insights")
    assert op.follow_ups_for(op.parse_request(request())) == ()


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pdt_answer",
    [
        pytest.param({"transaction": transaction(), "scores": []}, id="no-score"),
        pytest.param({"transaction": transaction(), "insights": []}, id="scores-absent"),
        pytest.param(
            {"transaction": {k: v for k, v in transaction().items() if k != "id"}, "scores": [score(1)]},
            id="transaction-without-id",
        ),
        pytest.param({"transaction": transaction(id=""), "scores": [score(1)]}, id="transaction-empty-id"),
        pytest.param({"scores": [score(1)]}, id="no-transaction"),
        pytest.param(
            # The code is the one insight field the rules read (the other fields
            # PDT requires may be absent: see tests/mapping/test_reads.py).
            {**answer(), "insights": [{"description": "x", "type": "Negative"}]},
            id="insight-without-its-code",
        ),
    ],
)
def test_unmappable_answers(pdt_answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamMalformed):
        operation(SCORE).to_legacy(pdt_answer)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(120, 100, id="120-clamped-to-100"),
        pytest.param(-3, 0, id="minus-3-clamped-to-0"),
        pytest.param(100.4, 100, id="100.4-clamped-to-100"),
        pytest.param(-0.6, 0, id="minus-0.6-clamped-to-0"),
    ],
)
def test_score_rule_clamps_out_of_range_values(value: float, expected: int) -> None:
    # PDT's 0..100 range is an assumption the schema does not enforce: a scale change
    # must degrade the answer (clamped), not refuse every answer.
    legacy, _ = operation(SCORE).to_legacy(answer(scores=(value,)))
    assert legacy["Score"] == expected
    assert isinstance(legacy["Score"], int)


# --- the caps and the order, from codes.csv read here ---------------------------------------


def _codes_csv() -> list[dict[str, str]]:
    with (FFR / "tables" / "codes.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _section(name: str) -> list[dict[str, str]]:
    return [row for row in _codes_csv() if row["section"] == name]


@pytest.mark.parametrize(("section", "limit"), list(SECTIONS.items()), ids=list(SECTIONS))
def test_each_section_is_capped_and_ordered_by_weight(section: str, limit: int) -> None:
    rows = _section(section)
    assert len(rows) > limit, "the table must hold more codes than the cap for this test to bite"
    if section == "Negative":
        rows = rows[:20]
        assert len(rows) == 20
    sent = list(rows)
    random.Random(section).shuffle(sent)
    # Other sections' codes and an unmapped one, interleaved, must not count against the cap.
    others = [row["pdt_code"] for row in _codes_csv() if row["section"] != section][:4]
    codes = [row["pdt_code"] for row in sent] + others + ["XYZ0000"]
    by_weight = sorted(sent, key=lambda row: int(row["weight"]), reverse=True)[:limit]
    expected = [{"Code": row["ffr_code"], "Description": row["description"]} for row in by_weight]
    # The test bites: the PDT order and a textual order of the weights both differ from the answer.
    assert [row["pdt_code"] for row in sent[:limit]] != [row["pdt_code"] for row in by_weight]

    legacy_body, trace = operation(SCORE).to_legacy(answer(*codes))

    got = legacy_body["AttackAlerts"] if section == "AttackAlert" else legacy_body["Reports"][section]
    assert got == expected
    assert len(got) == limit
    assert trace.unmapped == [UnmappedCode("codes", "XYZ0000")]


def test_weights_order_as_numbers_not_text() -> None:
    # GER2100 (weight 100) before GER2101 (95): as text, "95" > "100".
    weights = {row["pdt_code"]: row["weight"] for row in _codes_csv()}
    assert weights["GER2100"] == "100"
    assert weights["GER2101"] == "95"
    legacy_body, _ = operation(SCORE).to_legacy(answer("GER2101", "GER2100"))
    assert [item["Code"] for item in legacy_body["Reports"]["Negative"]] == ["FFR101", "FFR102"]


def test_twenty_negative_insights_yield_exactly_seven() -> None:
    negatives = [row["pdt_code"] for row in _section("Negative")][:20]
    legacy_body, _ = operation(SCORE).to_legacy(answer(*reversed(negatives)))
    assert len(legacy_body["Reports"]["Negative"]) == 7


def test_ties_keep_pdt_order(mappings_copy: Path) -> None:
    table = mappings_copy / "ffr" / "tables" / "codes.csv"
    rows = _codes_csv()
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "weight": "50"} for row in rows)
    op = next(route.operation for route in load_catalog(mappings_copy).products[PRODUCT].routes)
    negatives = [row for row in rows if row["section"] == "Negative"]
    sent = [negatives[index] for index in (5, 0, 9, 2, 7, 1, 3, 4)]
    legacy_body, _ = op.to_legacy(answer(*(row["pdt_code"] for row in sent)))
    assert [item["Code"] for item in legacy_body["Reports"]["Negative"]] == [
        row["ffr_code"] for row in sent[:7]
    ]


# --- one pair per code-table row -------------------------------------------------------------

_ROWS = table_rows(PRODUCT, "codes")


@pytest.mark.parametrize(("code", "row"), _ROWS, ids=[key for key, _ in _ROWS])
def test_code_row(code: str, row: dict[str, str]) -> None:
    legacy_body, trace = operation(SCORE).to_legacy(answer(code))
    pair = ((row["ffr_code"], row["description"]),)
    expected = legacy(
        negative=pair if row["section"] == "Negative" else (),
        positive=pair if row["section"] == "Positive" else (),
        alerts=pair if row["section"] == "AttackAlert" else (),
    )
    assert legacy_body == expected
    assert trace.unmapped == []


def test_code_table_matches_the_csv_file() -> None:
    # The compiled table holds exactly the file's rows (nothing dropped, nothing invented).
    assert {code: row["ffr_code"] for code, row in _ROWS} == {
        row["pdt_code"]: row["ffr_code"] for row in _codes_csv()
    }
    assert {row["section"] for row in _codes_csv()} == set(SECTIONS)


def test_every_ffr_code_is_in_the_legacy_catalogue_with_its_section() -> None:
    with (FFR / "tables" / "legacy-codes.csv").open(encoding="utf-8", newline="") as handle:
        catalogue = {row["code"]: row for row in csv.DictReader(handle)}
    for row in _codes_csv():
        entry = catalogue.get(row["ffr_code"])
        assert entry is not None, row["ffr_code"]
        assert (entry["section"], entry["description"]) == (row["section"], row["description"])


# --- the registry ----------------------------------------------------------------------------


def test_every_rule_has_a_golden_pair() -> None:
    in_files = rule_ids_in_operations(FFR)
    exercised = set().union(*(case.rules for case in GOLDEN))
    assert len(in_files) >= 30
    assert in_files - exercised == set(), "rules without a golden pair"
    assert exercised - in_files == set(), "golden cases naming rules that no longer exist"


def test_registry_sees_the_rules_the_compiler_compiled() -> None:
    op = operation(SCORE)
    assert op.request_mapper is not None
    compiled = set(op.request_mapper.provenance.values()) | set(op.response_mapper.provenance.values())
    assert compiled == rule_ids_in_operations(FFR)


def test_every_operation_has_golden_pairs_in_each_direction() -> None:
    directions = {case.direction for case in GOLDEN if case.operation == SCORE}
    assert directions == {"request", "response"}


def test_golden_inputs_are_not_mutated() -> None:
    before = copy.deepcopy([case.given for case in GOLDEN])
    for case in GOLDEN:
        run_golden(case)
    assert [case.given for case in GOLDEN] == before


@pytest.mark.parametrize(
    ("where", "rule_id"),
    [
        pytest.param("request", "ffr.req.new-rule", id="top-level-request-rule"),
        pytest.param("variable", "ffr.resp.variable.new-rule", id="rule-inside-the-grouped-fields"),
    ],
)
def test_registry_notices_a_rule_no_case_exercises(mappings_copy: Path, where: str, rule_id: str) -> None:
    path = mappings_copy / "ffr" / "operations" / "score.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    new_rule = {"id": rule_id, "to": "x", "from": "y"}
    if where == "request":
        raw["request"]["rules"].append(new_rule)
    else:
        # The three sections share the group's item rules: one new id, not three.
        raw["response"]["rules"][1]["group"]["fields"].append(new_rule)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    exercised = set().union(*(case.rules for case in GOLDEN))
    assert rule_ids_in_operations(mappings_copy / "ffr") - exercised == {rule_id}
