"""Property tests over the older v1 family's mappings: FFR and Mobile Trust (mapping totality).

Requests: any body the legacy contract accepts, in any key casing, maps to a body valid
under PDT's request schema (or is refused by a rule as ValidationFailed), and no JSON at
all makes parse_request, to_pdt or the shared authentication gate raise anything but
ValidationFailed. Responses: any answer valid under PDT's "all results" schema,
smsTokens included, maps to a legacy body valid under the legacy schema or is refused as
UpstreamMalformed; FFR's report sections and Mobile Trust's SMS status are checked
against an independent reading of the code tables.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.errors import UpstreamMalformed, ValidationFailed
from proxy.mapping.operation import Operation
from proxy.mapping.schemas import CompiledSchema

from .strategies import cpf_strategy, pdt_timestamps, schema_strategy
from .support import FFR, MOBILE_TRUST, load_json, operation, punctuate_cpf, shipped_catalog

SCORE = "ffr.score"
MT_CREATE = "mobiletrust.transaction.create"
MT_GET = "mobiletrust.transaction.get"

_T = TypeVar("_T")

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _attempt(call: Callable[[], _T]) -> tuple[_T | None, ValidationFailed | None]:
    """The call's result, or the ValidationFailed it raised (any other exception propagates)."""
    try:
        return call(), None
    except ValidationFailed as failure:
        return None, failure


def _names_fields(failure: ValidationFailed) -> bool:
    """A refusal names at least one field, each with at least one message."""
    return bool(failure.field_errors) and all(failure.field_errors.values())


def _schema_errors(schema: CompiledSchema, document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema.schema)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


_CASES: list[Callable[[str], str]] = [str, str.lower, str.upper, str.swapcase]


def _recase(body: Any, data: st.DataObject, *, free_form: frozenset[str] = frozenset()) -> Any:
    """The same body with each contract key in a case the legacy binder must accept.

    Lists are walked (FFR's Addresses and Phones items bind case-insensitively too);
    ``free_form`` members (Mobile Trust's AdditionalInformation) keep their keys.
    """
    if isinstance(body, list):
        return [_recase(item, data) for item in body]
    if not isinstance(body, dict):
        return body
    return {
        data.draw(st.sampled_from(_CASES))(key): (value if key in free_form else _recase(value, data))
        for key, value in body.items()
    }


_documents = cpf_strategy.flatmap(lambda digits: st.sampled_from([digits, punctuate_cpf(digits)]))
_FFR_REQUEST = load_json(FFR / "contract" / "score.request.json")
ffr_bodies = schema_strategy(_FFR_REQUEST, overrides={"Cpf": _documents})

_MT_REQUEST = load_json(MOBILE_TRUST / "contract" / "transaction.request.json")
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
mt_bodies = schema_strategy(
    _MT_REQUEST,
    overrides={
        "Document": _documents,
        # Free-form context: any scalar values (the schema's own strategy draws only {}).
        "AdditionalInformation": st.none() | st.dictionaries(st.text(max_size=12), _scalars, max_size=8),
    },
)

_BODIES = {SCORE: ffr_bodies, MT_CREATE: mt_bodies}
_FREE_FORM = {SCORE: frozenset[str](), MT_CREATE: frozenset({"AdditionalInformation"})}


@pytest.mark.parametrize("name", [SCORE, MT_CREATE])
def test_valid_requests_map_to_valid_pdt_bodies(name: str) -> None:
    op = operation(name)
    assert op.pdt_request is not None
    pdt_request = op.pdt_request
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(_BODIES[name], st.data())
    def check(body: dict[str, Any], data: st.DataObject) -> None:
        recased = _recase(body, data, free_form=_FREE_FORM[name])
        legacy, refused = _attempt(lambda: op.parse_request(recased))
        if refused is not None or legacy is None:
            outcomes["refused by the contract"] += 1
            assert refused is not None
            assert _names_fields(refused)
            return
        # Binding is case-insensitive: the recased body binds to what the original binds to.
        assert legacy == op.parse_request(body)
        pdt, refused = _attempt(lambda: op.to_pdt(legacy))
        if refused is not None or pdt is None:
            outcomes["refused by a rule"] += 1
            assert refused is not None
            assert _names_fields(refused)
            return
        outcomes["mapped"] += 1
        assert pdt_request.is_valid(pdt), _schema_errors(pdt_request, pdt)
        if name == MT_CREATE:
            assert pdt.get("genericFields") == legacy.get("AdditionalInformation")
            assert len(op.follow_ups_for(legacy)) == (0 if legacy.get("BlockSmsSending") is True else 1)

    check()
    total = sum(outcomes.values())
    # Guard against a vacuous property: most drawn bodies must pass the contract and map.
    assert outcomes["mapped"] >= total * 3 // 4, outcomes


_NAMES = [
    "Cpf",
    "OrderID",
    "OrderDate",
    "BirthDate",
    "Email",
    "Addresses",
    "Phones",
    "TypeID",
    "DDD",
    "DDI",
    "Number",
    "ZipCode",
    "ValidatedTokenEmail",
    "ValidatedTokenSMS",
    "Document",
    "DocumentType",
    "AreaCode",
    "Phone",
    "BlockSmsSending",
    "AdditionalInformation",
    "name",
    "password",
    "x",
]
_names = st.sampled_from(_NAMES).flatmap(lambda name: st.sampled_from([name, name.lower(), name.upper()]))
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=string.printable + "é\u00a0\u2028", max_size=20),
    cpf_strategy,
    st.sampled_from(
        [
            "11",
            "(11)",
            "01",
            "988056887",
            "98805-6887",
            "06454-050",
            "2017-12-28T13:20:24",
            "9999-12-31T23:59:59",
            "28/12/2017",
            "teste@teste.com",
            "+55",
            "CPF",
            "1",
            "0",
        ]
    ),
)
arbitrary_json = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(_names, st.text(max_size=5)), inner, max_size=6)
    ),
    max_leaves=24,
)


def _damaged(bodies: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """A valid body with one member replaced by arbitrary JSON: close to what the contract takes."""

    @st.composite
    def damage(draw: st.DrawFn) -> Any:
        body = dict(draw(bodies))
        key = draw(st.sampled_from([*sorted(body), "Addresses", "Phones", "AdditionalInformation"]))
        body[key] = draw(arbitrary_json)
        return body

    return damage()


def _parse_and_map(op: Operation, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    legacy = op.parse_request(body)
    return legacy, op.to_pdt(legacy)


@pytest.mark.parametrize("name", [SCORE, MT_CREATE])
def test_any_json_is_parsed_or_refused_as_validation_failed(name: str) -> None:
    op = operation(name)
    assert op.pdt_request is not None
    pdt_request = op.pdt_request
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(st.one_of(arbitrary_json, _damaged(_BODIES[name]), _BODIES[name]))
    def check(body: Any) -> None:
        mapped, refused = _attempt(lambda: _parse_and_map(op, body))
        if refused is not None or mapped is None:
            outcomes["refused"] += 1
            assert refused is not None
            assert _names_fields(refused)
            return
        legacy, pdt = mapped
        outcomes["mapped"] += 1
        assert pdt_request.is_valid(pdt), _schema_errors(pdt_request, pdt)
        op.follow_ups_for(legacy)

    check()
    assert outcomes["refused"] >= 20, outcomes
    assert outcomes["mapped"] >= 20, outcomes


def test_both_products_share_one_authentication() -> None:
    products = shipped_catalog().products
    assert products["ffr"].authentication.spec == products["mobile-trust"].authentication.spec


@pytest.mark.parametrize("product", ["ffr", "mobile-trust"])
def test_authentication_gate_parses_or_refuses_any_json(product: str) -> None:
    gate = shipped_catalog().products[product].authentication.gate
    credentials = st.tuples(
        st.sampled_from(["name", "Name", "NAME"]),
        st.text(min_size=1, max_size=10),
        st.sampled_from(["password", "Password", "PASSWORD"]),
        st.text(min_size=1, max_size=10),
    ).map(lambda parts: {parts[0]: parts[1], parts[2]: parts[3]})
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(st.one_of(arbitrary_json, credentials))
    def check(body: Any) -> None:
        bound, refused = _attempt(lambda: gate.parse(body))
        if refused is not None or bound is None:
            outcomes["refused"] += 1
            assert refused is not None
            assert _names_fields(refused)
            return
        outcomes["accepted"] += 1
        assert set(bound) >= {"name", "password"}
        assert isinstance(bound["name"], str)
        assert isinstance(bound["password"], str)

    check()
    assert outcomes["accepted"] >= 20, outcomes


# --- responses -----------------------------------------------------------------------------

_FFR_CODES = shipped_catalog().products["ffr"].tables["codes"].rows
_MT_INSIGHTS = shipped_catalog().products["mobile-trust"].tables["insights"].rows
_SMS_STATUS = shipped_catalog().products["mobile-trust"].tables["sms-status"].rows
_SMS_STATUSES = ["Waiting", "Valid", "Invalid", "Expired"]
_PAIR_NAMES = ["Document", "Phone", "Email", "ZipCode", "Card"]
_LIMITS = {"Negative": 7, "Positive": 3, "AttackAlert": 3}


def _answers(op: Operation, codes: list[str]) -> st.SearchStrategy[Any]:
    root = op.pdt_answer.schema
    code_strategy = st.one_of(st.sampled_from(codes), st.sampled_from(codes), st.text(min_size=1, max_size=8))
    # The code is what the rules read; the other members take a few cheap values.
    words = st.sampled_from(["", "Fraude", "Alerta", "Positivo", "document", "Document"])
    insight = st.fixed_dictionaries(
        {
            "code": code_strategy,
            "description": words,
            "type": words,
            "category": words,
            "relevance": words,
            "relatedTo": st.lists(words, max_size=2),
        }
    )
    overrides: dict[str, st.SearchStrategy[Any]] = {
        "transaction.createdAt": pdt_timestamps(),
        "transaction.referenceDate": pdt_timestamps(),
        "scores[].createdAt": pdt_timestamps(),
        "ratings[].createdAt": pdt_timestamps(),
        "smsTokens[].createdAt": pdt_timestamps(),
        "emailTokens[].createdAt": pdt_timestamps(),
        "insights": st.lists(insight, max_size=4),
        "ratings[].relatedTo": st.lists(st.sampled_from(_PAIR_NAMES), min_size=2, max_size=2),
        "ratings[].value": st.integers(min_value=0, max_value=5) | st.integers(min_value=0),
        "smsTokens[].status": st.one_of(
            st.sampled_from(_SMS_STATUSES), st.sampled_from(_SMS_STATUSES), st.text(max_size=8)
        ),
    }
    answers = schema_strategy(root, overrides=overrides, max_items=4)
    # The schema's optional modules appear in a minority of its draws: about half the
    # answers here carry scores (FFR needs one), insights past the caps and SMS tokens.
    scores = st.lists(
        schema_strategy({"$ref": "#/definitions/score"}, root, overrides=overrides, path="scores[]"),
        min_size=1,
        max_size=3,
    )
    tokens = st.lists(
        schema_strategy({"$ref": "#/definitions/token"}, root, overrides=overrides, path="smsTokens[]"),
        min_size=1,
        max_size=3,
    )
    # Long enough to go past FFR's caps (7 / 3 / 3).
    insights = st.lists(insight, min_size=8, max_size=16)
    with_modules = st.tuples(answers, scores, insights, tokens).map(
        lambda parts: {**parts[0], "scores": parts[1], "insights": parts[2], "smsTokens": parts[3]}
    )
    return st.one_of(with_modules, answers)


def _expected_section(answer: dict[str, Any], section: str) -> list[str]:
    """The FFR codes a section must hold: stable sort by weight, descending, then the cap."""
    rows = [_FFR_CODES[item["code"]] for item in answer.get("insights", []) if item["code"] in _FFR_CODES]
    chosen = [row for row in rows if row["section"] == section]
    chosen.sort(key=lambda row: int(row["weight"]), reverse=True)
    return [row["ffr_code"] for row in chosen[: _LIMITS[section]]]


def _check_ffr(answer: dict[str, Any], legacy: dict[str, Any]) -> None:
    assert legacy["TransactionID"] == answer["transaction"]["id"]
    assert legacy["Score"] == round(min(100.0, max(0.0, answer["scores"][-1]["value"])))
    sections = {**legacy["Reports"], "AttackAlert": legacy["AttackAlerts"]}
    for section in _LIMITS:
        assert [item["Code"] for item in sections[section]] == _expected_section(answer, section), section


def _check_mobile_trust(answer: dict[str, Any], legacy: dict[str, Any]) -> None:
    assert legacy["TransactionID"] == answer["transaction"]["id"]
    assert legacy["Document"] == answer["transaction"]["document"]
    tokens = answer.get("smsTokens") or []
    expected = (
        "Blocked" if not tokens else _SMS_STATUS.get(tokens[-1]["status"], {"legacy": "Sent"})["legacy"]
    )
    assert legacy["Sms"]["Status"] == expected
    mapped = [item["code"] for item in answer.get("insights", []) if item["code"] in _MT_INSIGHTS]
    assert [item["Code"] for item in legacy["Insights"]] == [_MT_INSIGHTS[code]["mt_code"] for code in mapped]


_RESPONSE_CASES: dict[str, tuple[list[str], Callable[[dict[str, Any], dict[str, Any]], None]]] = {
    SCORE: (sorted(_FFR_CODES), _check_ffr),
    MT_CREATE: (sorted(_MT_INSIGHTS), _check_mobile_trust),
    MT_GET: (sorted(_MT_INSIGHTS), _check_mobile_trust),
}


@pytest.mark.parametrize("name", list(_RESPONSE_CASES))
def test_valid_pdt_answers_map_to_valid_legacy_bodies(name: str) -> None:
    op = operation(name)
    codes, check_body = _RESPONSE_CASES[name]
    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(_answers(op, codes))
    def check(answer: Any) -> None:
        if not op.pdt_answer.is_valid(answer):
            outcomes["invalid"] += 1
            return
        try:
            legacy, trace = op.to_legacy(answer)
        except UpstreamMalformed:
            outcomes["refused"] += 1
            return
        outcomes["mapped"] += 1
        if answer.get("smsTokens"):
            outcomes["with sms tokens"] += 1
        if len(answer.get("insights", [])) > 7:
            # More than the largest cap: the limits and the order are what is checked.
            outcomes["past the caps"] += 1
        assert op.legacy_response.is_valid(legacy), _schema_errors(op.legacy_response, legacy)
        assert len(trace.unmapped) == len(set(trace.unmapped))
        check_body(answer, legacy)

    check()
    # Guard against a vacuous property: many answers map (FFR refuses those without a
    # score), many with SMS tokens, many past FFR's caps. The floors leave room for the
    # generator to shift when a schema changes (derandomized, yet not frozen across edits).
    assert outcomes["mapped"] >= 40, outcomes
    assert outcomes["with sms tokens"] >= 20, outcomes
    assert outcomes["past the caps"] >= 20, outcomes
