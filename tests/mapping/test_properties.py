"""Property tests over the Data Trust v1 mappings (B.5 #2: mapping totality).

Requests: any body the legacy contract accepts maps to a body valid under PDT's
request schema, and no body at all makes parse_request raise anything but
ValidationFailed. Responses: any answer valid under PDT's schema maps to a legacy
body valid under the legacy schema, or is refused as UpstreamMalformed.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from proxy.errors import UpstreamMalformed, ValidationFailed
from proxy.mapping.operation import Operation
from proxy.mapping.schemas import CompiledSchema

from .strategies import cnpj_strategy, cpf_strategy, pdt_timestamps, schema_strategy
from .support import DATATRUST, load_json, operation, punctuate_cnpj, punctuate_cpf, shipped_catalog

CREATE = "datatrust.transaction.create"
SEND = "datatrust.token.send"
VALIDATE = "datatrust.token.validate"
GET = "datatrust.transaction.get"

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _schema_errors(schema: CompiledSchema, document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema.schema)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


def _recase(body: Any, data: st.DataObject) -> Any:
    """The same body with each key in a case the legacy binder must accept."""
    if not isinstance(body, dict):
        return body
    cases: list[Callable[[str], str]] = [str, str.lower, str.upper, str.swapcase]
    return {data.draw(st.sampled_from(cases))(key): _recase(value, data) for key, value in body.items()}


_TRANSACTION = load_json(DATATRUST / "contract" / "transaction.request.json")
_TRANSACTION_BASE = {key: value for key, value in _TRANSACTION.items() if key not in ("if", "then", "else")}
_transaction_fields = schema_strategy(_TRANSACTION_BASE, overrides={"Document": st.just("")})


@st.composite
def transaction_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = draw(_transaction_fields)
    is_cnpj = isinstance(body.get("DocumentType"), str) and body["DocumentType"].lower() == "cnpj"
    digits = draw(cnpj_strategy if is_cnpj else cpf_strategy)
    punctuate = punctuate_cnpj if is_cnpj else punctuate_cpf
    body["Document"] = draw(st.sampled_from([digits, punctuate(digits)]))
    return body


def _check_request(op: Operation, body: Any) -> None:
    try:
        legacy = op.parse_request(body)
    except ValidationFailed:
        event("refused by the contract")
        return
    event("accepted")
    try:
        pdt = op.to_pdt(legacy)
    except ValidationFailed:
        event("refused by a rule")
        return
    if op.pdt_request is not None:
        assert op.pdt_request.is_valid(pdt), _schema_errors(op.pdt_request, pdt)


def test_valid_transaction_requests_map_to_valid_pdt_bodies() -> None:
    op = operation(CREATE)
    accepted: list[bool] = []

    @PROPERTY
    @given(transaction_bodies(), st.data())
    def check(body: dict[str, Any], data: st.DataObject) -> None:
        _check_request(op, _recase(body, data))
        accepted.append(op.gate is not None and op.gate.schema.is_valid(op.gate.bind(body)))

    check()
    # Guard against a vacuous property: most generated bodies must pass the contract.
    assert sum(accepted) >= len(accepted) // 2, (sum(accepted), len(accepted))


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param({"AreaCode": "11", "Number": "0000-0000"}, id="number-zeros"),
        pytest.param({"AreaCode": "11", "Number": "00000000"}, id="number-zeros-no-dash"),
        pytest.param({"CountryCode": "0", "AreaCode": "11", "Number": "98765-4321"}, id="country-code-zero"),
        pytest.param(
            {"CountryCode": "+00", "AreaCode": "11", "Number": "98765-4321"}, id="country-code-plus-zeros"
        ),
    ],
)
def test_all_zero_phone_parts_are_refused_or_map_to_valid_pdt(phone: dict[str, Any]) -> None:
    op = operation(CREATE)
    assert op.pdt_request is not None
    try:
        legacy = op.parse_request({"Document": "12345678909", "Phone": phone})
    except ValidationFailed:
        return
    assert op.pdt_request.is_valid(op.to_pdt(legacy))


@pytest.mark.parametrize("name", [SEND, VALIDATE])
def test_valid_token_requests_map_to_valid_pdt_bodies(name: str) -> None:
    op = operation(name)
    assert op.gate is not None

    @PROPERTY
    @given(schema_strategy(op.gate.schema.schema), st.data())
    def check(body: Any, data: st.DataObject) -> None:
        body = _recase(body, data)
        _check_request(op, body)
        try:
            legacy = op.parse_request(body)
        except ValidationFailed:
            return
        assert op.channel_of(legacy) in ("sms", "email")

    check()


_names = st.sampled_from(
    [
        "Document",
        "DocumentType",
        "Phone",
        "AreaCode",
        "Number",
        "CountryCode",
        "Email",
        "ZipCode",
        "Channel",
        "Value",
        "x",
    ]
).flatmap(lambda name: st.sampled_from([name, name.lower(), name.upper()]))
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=string.printable + "é\u00a0\u2028", max_size=20),
    cpf_strategy,
    st.sampled_from(["CPF", "cnpj", "Sms", "email", "(11)", "98765-4321", "01310-100", "2024-02-29", "1234"]),
)
arbitrary_json = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.one_of(_names, st.text(max_size=5)), inner, max_size=5)
    ),
    max_leaves=20,
)


@pytest.mark.parametrize("name", [CREATE, SEND, VALIDATE])
def test_any_json_is_parsed_or_refused_as_validation_failed(name: str) -> None:
    op = operation(name)

    @PROPERTY
    @given(arbitrary_json)
    def check(body: Any) -> None:
        field_errors: Any = None
        try:
            bound = op.parse_request(body)
        except ValidationFailed as failure:
            field_errors = failure.field_errors
        if field_errors is not None:
            # A refusal always names at least one field, each with a message.
            assert field_errors
            assert all(field_errors.values())
            return
        assert isinstance(bound, dict)
        _check_request(op, body)

    check()


def test_authentication_gate_parses_or_refuses_any_json() -> None:
    gate = shipped_catalog().products["datatrust-v1"].authentication.gate

    @PROPERTY
    @given(arbitrary_json)
    def check(body: Any) -> None:
        try:
            bound = gate.parse(body)
        except ValidationFailed:
            return
        assert set(bound) >= {"Username", "Password"}

    check()


# --- responses -----------------------------------------------------------------------------

_INSIGHT_CODES = sorted(shipped_catalog().products["datatrust-v1"].tables["insights"].rows)
_PAIR_NAMES = ["Document", "Phone", "Email", "ZipCode", "Card"]
_RESPONSE_OVERRIDES = {
    # Values the rules know (so the mapping runs to the end) mixed with any the schema allows.
    "transaction.createdAt": pdt_timestamps(),
    "createdAt": pdt_timestamps(),
    "type": st.one_of(
        st.sampled_from(["Sms", "Email"]), st.sampled_from(["Sms", "Email"]), st.text(max_size=8)
    ),
    "insights[].code": st.one_of(st.sampled_from(_INSIGHT_CODES), st.text(min_size=1, max_size=8)),
    "ratings[].relatedTo": st.lists(st.sampled_from(_PAIR_NAMES), min_size=2, max_size=2),
    "ratings[].value": st.integers(min_value=0, max_value=5) | st.integers(min_value=0),
}


@pytest.mark.parametrize("name", [CREATE, GET, SEND, VALIDATE])
def test_valid_pdt_answers_map_to_valid_legacy_bodies(name: str) -> None:
    op = operation(name)
    root = op.pdt_answer.schema
    statuses = ["Waiting"] if name == SEND else ["Valid", "Invalid", "Expired"]
    overrides = {
        **_RESPONSE_OVERRIDES,
        "status": st.one_of(st.sampled_from(statuses), st.sampled_from(statuses), st.text(max_size=8)),
    }
    answers = schema_strategy(root, overrides=overrides, max_items=4)
    if "scores" in root.get("properties", {}):
        # Mostly with a score: the legacy answer needs one, so answers without are refused.
        scores = st.lists(schema_strategy({"$ref": "#/definitions/score"}, root), min_size=1, max_size=3)
        with_score = st.tuples(answers, scores).map(lambda pair: {**pair[0], "scores": pair[1]})
        answers = st.one_of(answers, with_score, with_score)

    outcomes: Counter[str] = Counter()

    @PROPERTY
    @given(answers)
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
        assert op.legacy_response.is_valid(legacy), _schema_errors(op.legacy_response, legacy)
        assert len(trace.unmapped) == len(set(trace.unmapped))

    check()
    # Guard against a vacuous property: a good share of the drawn answers must map.
    assert outcomes["mapped"] >= 30, outcomes
