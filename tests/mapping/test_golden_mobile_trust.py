"""Golden pairs for Mobile Trust: every rule and every code-table row, both directions.

``GOLDEN`` is the registry: each case names the rule ids it exercises, and
``test_every_rule_has_a_golden_pair`` fails when an operation file gains a rule no case
exercises. The SMS follow-up (``after:``) and the SMS status read back from PDT's
``smsTokens`` are checked here too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from proxy.errors import UpstreamMalformed, ValidationFailed
from proxy.mapping.examples import load_example
from proxy.mapping.operation import FollowUp
from proxy.mapping.transforms import UnmappedCode

from .support import (
    MOBILE_TRUST,
    V1_FAMILY,
    Golden,
    golden_case,
    golden_cases,
    operation,
    rule_ids_in_operations,
    run_golden,
    shipped_catalog,
    table_rows,
)

CREATE = "mobiletrust.transaction.create"
GET = "mobiletrust.transaction.get"
PRODUCT = "mobile-trust"
CPF = "19678335832"
STAMP = "2026-11-22T10:00:00Z"
TRANSACTION_ID = "2b0c6a0e-0000-4000-8000-0000000000aa"

# The request of spec/mobile-trust.md (public client code), verbatim.
CLIENT_EXAMPLE: dict[str, Any] = load_example("mobile-trust", "transaction.request")


def request(**fields: Any) -> dict[str, Any]:
    return {"Document": CPF, "AreaCode": "11", "Phone": "988056887", **fields}


def pdt(**fields: Any) -> dict[str, Any]:
    return {
        "documentType": "CPF",
        "document": CPF,
        "phone": {"countryCode": 55, "areaCode": 11, "number": 988056887},
        **fields,
    }


def transaction(**extra: Any) -> dict[str, Any]:
    return {
        "id": TRANSACTION_ID,
        "createdAt": "2026-11-22T07:00:00.1234567-03:00",
        "referenceDate": STAMP,
        "documentType": "CPF",
        "document": CPF,
        **extra,
    }


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


def token(status: str) -> dict[str, Any]:
    return {"status": status, "type": "Sms", "createdAt": STAMP}


def legacy(
    *,
    ratings: tuple[tuple[str, str], ...] = (),
    insights: tuple[tuple[str, str, str], ...] = (),
    sms: str = "Blocked",
) -> dict[str, Any]:
    return {
        "TransactionID": TRANSACTION_ID,
        "Document": CPF,
        "Ratings": [{"Relation": relation, "Value": value} for relation, value in ratings],
        "Insights": [{"Code": code, "Description": text, "Type": kind} for code, text, kind in insights],
        "Sms": {"Status": sms},
    }


# The golden pairs are data: mappings/<product>/examples/golden.yaml.
GOLDEN: tuple[Golden, ...] = golden_cases(MOBILE_TRUST)
CLIENT_EXAMPLE_PDT = golden_case(GOLDEN, "client-example").expected


@pytest.mark.parametrize("case", GOLDEN, ids=lambda case: case.name)
def test_golden(case: Golden) -> None:
    got, unmapped = run_golden(case)
    assert got == case.expected
    assert unmapped == case.unmapped
    op = operation(case.operation)
    if case.direction == "request":
        assert op.pdt_request is not None
        assert op.pdt_request.is_valid(got), op.pdt_request.violations(got)


def _recase_top(value: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    return {change(key): item for key, item in value.items()}


@pytest.mark.parametrize("change", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swapcase"])
def test_client_example_binds_in_any_case(change: Callable[[str], str]) -> None:
    # Field names bind in any case; AdditionalInformation is free-form and travels verbatim.
    op = operation(CREATE)
    bound = op.parse_request(_recase_top(CLIENT_EXAMPLE, change))
    assert op.to_pdt(bound) == CLIENT_EXAMPLE_PDT
    assert op.follow_ups_for(bound) == ()


def test_modules_called() -> None:
    assert operation(CREATE).modules_for(pdt()) == ("ratings", "insights")


# --- the SMS follow-up -----------------------------------------------------------------------

SMS = FollowUp("send_token", "sms", None, "smsTokens", "sms_token")


@pytest.mark.parametrize(
    ("body", "calls"),
    [
        pytest.param(request(BlockSmsSending=True), (), id="true"),
        pytest.param(request(BlockSmsSending=False), (SMS,), id="false"),
        pytest.param(request(), (SMS,), id="absent"),
        pytest.param(request(BlockSmsSending=None), (SMS,), id="null"),
        pytest.param(request(blocksmssending=True), (), id="true-lower-case-key"),
        pytest.param(request(BLOCKSMSSENDING=False), (SMS,), id="false-upper-case-key"),
    ],
)
def test_sms_follow_up(body: dict[str, Any], calls: tuple[FollowUp, ...]) -> None:
    op = operation(CREATE)
    got = op.follow_ups_for(op.parse_request(body))
    # The follow-up's condition is a compiled closure: compare what the runtime uses.
    assert [(item.call, item.channel, item.module, item.view_key) for item in got] == [
        (item.call, item.channel, item.module, item.view_key) for item in calls
    ]


def test_sms_follow_up_lands_where_the_status_rule_reads() -> None:
    (follow_up,) = operation(CREATE).follow_ups
    assert follow_up.view_key == "smsTokens"
    (rule,) = [rule for rule in operation(CREATE).spec.response.rules if rule.id == "mt.resp.sms-status"]
    assert rule.source is not None
    assert rule.source.split("[", 1)[0] == follow_up.view_key


def test_get_takes_no_body_and_sends_nothing() -> None:
    op = operation(GET)
    assert op.gate is None
    assert op.follow_ups_for({}) == ()


# --- invalid requests: the field and the v1-family message -----------------------------------

_MESSAGES: dict[str, str] = yaml.safe_load((V1_FAMILY / "errors.yaml").read_text(encoding="utf-8"))[
    "validation_messages"
]


def family_message(key: str, field_name: str, **params: Any) -> str:
    return _MESSAGES[key].format(field=field_name.rsplit(".", 1)[-1], **params)


@pytest.mark.parametrize(
    ("body", "field_name", "message"),
    [
        pytest.param(
            request(Document="196.783.358-33"),
            "Document",
            family_message("format.cpf", "Document"),
            id="bad-cpf-check-digits",
        ),
        pytest.param(
            {"AreaCode": "11", "Phone": "988056887"},
            "Document",
            family_message("required", "Document"),
            id="no-document",
        ),
        pytest.param(
            request(AreaCode="01"), "AreaCode", family_message("pattern", "AreaCode"), id="area-code-01"
        ),
        pytest.param(
            # Json.NET reads a number into the string AreaCode, but not an object.
            request(AreaCode={"Value": 11}),
            "AreaCode",
            family_message("type", "AreaCode"),
            id="area-code-object",
        ),
        pytest.param(request(Phone="123"), "Phone", family_message("pattern", "Phone"), id="phone-123"),
        pytest.param(
            {"Document": CPF, "AreaCode": "11"}, "Phone", family_message("required", "Phone"), id="no-phone"
        ),
        pytest.param(
            request(Email="cliente@example"),
            "Email",
            family_message("format.email", "Email"),
            id="email-no-dot",
        ),
        pytest.param(
            request(Email="cliente example.com"),
            "Email",
            family_message("format.email", "Email"),
            id="email-no-at",
        ),
        pytest.param(
            request(AdditionalInformation={"Item": {"Name": "Teste"}}),
            "AdditionalInformation.Item",
            family_message("default", "AdditionalInformation.Item"),
            id="additional-information-nested-object",
        ),
        pytest.param(
            request(AdditionalInformation={"Items": ["a", "b"]}),
            "AdditionalInformation.Items",
            family_message("default", "AdditionalInformation.Items"),
            id="additional-information-list",
        ),
        pytest.param(
            request(AdditionalInformation={f"k{index}": index for index in range(51)}),
            "AdditionalInformation",
            family_message("default", "AdditionalInformation"),
            id="additional-information-51-keys",
        ),
        pytest.param(
            request(DocumentType="CNPJ"),
            "DocumentType",
            family_message("pattern", "DocumentType"),
            id="cnpj-type",
        ),
        pytest.param(
            # bool.TryParse takes "true"/"false" only: "1" was Json.NET's error.
            request(BlockSmsSending="1"),
            "BlockSmsSending",
            family_message("type", "BlockSmsSending"),
            id="block-sms-as-1",
        ),
        pytest.param(
            request(ZipCode="6454050"),
            "ZipCode",
            family_message("pattern", "ZipCode"),
            id="zip-code-7-digits",
        ),
    ],
)
def test_invalid_requests(body: dict[str, Any], field_name: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        operation(CREATE).parse_request(body)
    assert dict(caught.value.field_errors) == {field_name: (message,)}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([CLIENT_EXAMPLE], id="list"),
        pytest.param("19678335832", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_non_object_bodies_are_refused(body: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        operation(CREATE).parse_request(body)
    assert dict(caught.value.field_errors) == {"$": (_MESSAGES["malformed_json"],)}


# --- unmappable answers ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [CREATE, GET])
@pytest.mark.parametrize(
    "pdt_answer",
    [
        pytest.param(
            {"transaction": {k: v for k, v in transaction().items() if k != "id"}},
            id="transaction-without-id",
        ),
        pytest.param({"transaction": transaction(id="")}, id="transaction-empty-id"),
        pytest.param(
            {"transaction": {k: v for k, v in transaction().items() if k != "document"}},
            id="transaction-without-document",
        ),
        pytest.param({"ratings": [rating(3, "Document", "Phone")]}, id="no-transaction"),
        pytest.param(
            {"transaction": transaction(), "smsTokens": [{"createdAt": STAMP}]}, id="token-without-status"
        ),
        pytest.param(
            {"transaction": transaction(), "ratings": [rating(3, "Document")]},
            id="rating-with-one-related-field",
        ),
        pytest.param(
            {"transaction": transaction(), "ratings": [rating(-1, "Document", "Phone")]}, id="rating-below-0"
        ),
    ],
)
def test_unmappable_answers(name: str, pdt_answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamMalformed):
        operation(name).to_legacy(pdt_answer)


# --- one pair per code-table row -------------------------------------------------------------


def _answer(**modules: Any) -> dict[str, Any]:
    return {"transaction": transaction(), **modules}


_INSIGHTS = table_rows(PRODUCT, "insights")
_RELATIONS = table_rows(PRODUCT, "rating-relations")
_VALUES = table_rows(PRODUCT, "rating-values")
_SMS = table_rows(PRODUCT, "sms-status")
_IGNORED = shipped_catalog().products[PRODUCT].tables["rating-relations"].declaration.ignore


@pytest.mark.parametrize(("code", "row"), _INSIGHTS, ids=[key for key, _ in _INSIGHTS])
def test_insight_row(code: str, row: dict[str, str]) -> None:
    body, trace = operation(CREATE).to_legacy(_answer(insights=[insight(code)]))
    assert body == legacy(insights=((row["mt_code"], row["description"], row["type"]),))
    assert trace.unmapped == []


@pytest.mark.parametrize("order", ["as-in-table", "reversed"])
@pytest.mark.parametrize(("pair", "row"), _RELATIONS, ids=[key for key, _ in _RELATIONS])
def test_rating_relation_row(pair: str, row: dict[str, str], order: str) -> None:
    # PDT's order within the pair is not guaranteed: both orders map alike.
    names = pair.split("+")
    related = names if order == "as-in-table" else list(reversed(names))
    body, trace = operation(CREATE).to_legacy(_answer(ratings=[rating(3, *related)]))
    assert body == legacy(ratings=((row["relation"], "Strong"),))
    assert trace.unmapped == []


@pytest.mark.parametrize(("value", "row"), _VALUES, ids=[key for key, _ in _VALUES])
def test_rating_value_row(value: str, row: dict[str, str]) -> None:
    body, trace = operation(CREATE).to_legacy(_answer(ratings=[rating(int(value), "Document", "Email")]))
    assert body == legacy(ratings=(("CPF_EMAIL", row["value"]),))
    assert trace.unmapped == []


@pytest.mark.parametrize(("status", "row"), _SMS, ids=[key for key, _ in _SMS])
@pytest.mark.parametrize("name", [CREATE, GET])
def test_sms_status_row(name: str, status: str, row: dict[str, str]) -> None:
    body, trace = operation(name).to_legacy(_answer(smsTokens=[token(status)]))
    assert body == legacy(sms=row["legacy"])
    assert trace.unmapped == []


@pytest.mark.parametrize("order", ["as-declared", "reversed"])
@pytest.mark.parametrize("pair", _IGNORED)
def test_ignored_rating_pair_is_dropped_and_not_reported(pair: str, order: str) -> None:
    names = pair.split("+")
    related = names if order == "as-declared" else list(reversed(names))
    body, trace = operation(CREATE).to_legacy(
        _answer(ratings=[rating(3, *related), rating(1, "Phone", "Document")])
    )
    assert body == legacy(ratings=(("CPF_PHONE", "Weak"),))
    assert trace.unmapped == []


@pytest.mark.parametrize("value", [4, 9, 1000])
def test_unknown_rating_value_is_unknown_and_reported(value: int) -> None:
    body, trace = operation(CREATE).to_legacy(_answer(ratings=[rating(value, "Document", "ZipCode")]))
    assert body == legacy(ratings=(("CPF_ZIPCODE", "Unknown"),))
    assert trace.unmapped == [UnmappedCode("rating-values", str(value))]


@pytest.mark.parametrize(
    ("code", "reported"),
    [("DSP9001", False), ("CMP9005", False), ("XYZ0000", True)],
    ids=["device-insight-ignored", "behaviour-insight-ignored", "unknown-code"],
)
def test_unmapped_insight_is_dropped_and_reported_unless_ignored(code: str, reported: bool) -> None:
    body, trace = operation(CREATE).to_legacy(_answer(insights=[insight(code), insight("GER2100")]))
    assert body == legacy(insights=(("MT001", "CPF involved in fraud less than 1 month ago", "Negative"),))
    assert trace.unmapped == ([UnmappedCode("insights", code)] if reported else [])


def test_tables_have_rows_and_cover_the_contract_enums() -> None:
    for rows in (_INSIGHTS, _RELATIONS, _VALUES, _SMS):
        assert rows
    schema = operation(CREATE).legacy_response.schema["properties"]
    relations = set(schema["Ratings"]["items"]["properties"]["Relation"]["enum"])
    values = set(schema["Ratings"]["items"]["properties"]["Value"]["enum"])
    statuses = set(schema["Sms"]["properties"]["Status"]["enum"])
    assert {row["relation"] for _, row in _RELATIONS} == relations
    assert {row["value"] for _, row in _VALUES} == values
    # "Blocked" is the rule's default (no token at all), every other status comes from the table.
    assert {row["legacy"] for _, row in _SMS} | {"Blocked"} == statuses


# --- the registry ----------------------------------------------------------------------------


def test_every_rule_has_a_golden_pair() -> None:
    in_files = rule_ids_in_operations(MOBILE_TRUST)
    exercised = set().union(*(case.rules for case in GOLDEN))
    assert len(in_files) >= 18
    assert in_files - exercised == set(), "rules without a golden pair"
    assert exercised - in_files == set(), "golden cases naming rules that no longer exist"


def test_registry_sees_the_rules_the_compiler_compiled() -> None:
    compiled: set[str] = set()
    for name in (CREATE, GET):
        op = operation(name)
        compiled |= set(op.response_mapper.provenance.values())
        if op.request_mapper is not None:
            compiled |= set(op.request_mapper.provenance.values())
    assert compiled == rule_ids_in_operations(MOBILE_TRUST)


def test_every_operation_has_golden_pairs_in_each_direction_it_maps() -> None:
    for route in shipped_catalog().products[PRODUCT].routes:
        op = route.operation
        directions = {case.direction for case in GOLDEN if case.operation == op.name}
        assert "response" in directions, op.name
        if op.request_mapper is not None:
            assert "request" in directions, op.name


def test_golden_inputs_are_not_mutated() -> None:
    before = copy.deepcopy([case.given for case in GOLDEN])
    for case in GOLDEN:
        run_golden(case)
    assert [case.given for case in GOLDEN] == before
