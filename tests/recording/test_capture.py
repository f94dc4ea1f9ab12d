"""proxy.recording.capture: what an answered exchange becomes in the corpus."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from stdnum.br import cpf as stdnum_cpf

from proxy.errors import UpstreamTimeout
from proxy.privacy import pseudonymous_cpf
from proxy.recording.capture import entry_from_exchange, mask_body, recordable
from proxy.stages.dispatch import Answer
from proxy.state.corpus import entry_to_line, schema_problems

from .support import KEY, MOMENT, answer, exchange


def test_the_masked_request_is_still_a_valid_legacy_request() -> None:
    item = exchange()
    recorded = entry_from_exchange(item, answer(), key=KEY, now=MOMENT)
    body = recorded.request_body.data
    assert stdnum_cpf.is_valid(body["Document"])
    assert body["Document"] != "19678335832"
    # The operation's own gate accepts it: a replay exercises the mapping, not the error table.
    item.operation.parse_request(body)


def test_the_document_echoed_in_the_answer_becomes_the_same_pseudonym() -> None:
    recorded = entry_from_exchange(exchange(), answer(), key=KEY, now=MOMENT)
    expected = pseudonymous_cpf("19678335832", key=KEY)
    assert recorded.request_body.data["Document"] == expected
    assert recorded.response_body.data["Document"] == expected
    assert recorded.response_body.data["Ratings"] == [{"Relation": "CPF_PHONE", "Value": "Strong"}]


def test_no_personal_value_or_secret_reaches_the_line() -> None:
    line = entry_to_line(entry_from_exchange(exchange(), answer(), key=KEY, now=MOMENT))
    assert schema_problems(orjson.loads(line)) == []
    text = line.decode()
    for value in ("19678335832", "cliente@example.org", "988056887", "Nome do Cliente", "Bearer"):
        assert value not in text
    assert orjson.loads(line)["request"]["headers"] == {"content-type": "application/json"}


def test_a_request_with_a_one_time_code_is_recorded_as_not_replayable() -> None:
    item = exchange(
        "datatrust.token.validate",
        product="datatrust-v1",
        path="/products/v1/datatrust/L-1/token/validate",
        body={"Channel": "Sms", "Value": "123456"},
        transaction_id="L-1",
    )
    recorded = entry_from_exchange(item, answer({"status": "Valid"}), key=KEY, now=MOMENT)
    assert recorded.replayable is False
    assert recorded.request_body.data == {"Channel": "Sms", "Value": "000000"}


def test_a_get_has_no_body_and_keeps_its_path() -> None:
    item = exchange(
        "mobiletrust.transaction.get",
        path="/v1/mobiletrust/transaction/L-1",
        body=None,
        method="GET",
        transaction_id="L-1",
    )
    recorded = entry_from_exchange(item, answer(), key=KEY, now=MOMENT)
    assert (recorded.method, recorded.path, recorded.request_body.data) == (
        "GET",
        "/v1/mobiletrust/transaction/L-1",
        None,
    )
    assert recorded.request_content_type is None


BODIES: list[tuple[bytes, str | None, Any, str | None]] = [
    (b"", "application/json", None, None),
    (b'{"Cpf": "01234567890"}', "application/json", {"Cpf": pseudonymous_cpf("01234567890", key=KEY)}, None),
    (b"name=x&password=hunter2", "application/x-www-form-urlencoded", None, "name=x&password=***"),
    (b"{broken", "application/json", None, "{broken"),
]


@pytest.mark.parametrize(("body", "content_type", "data", "text"), BODIES)
def test_bodies_are_recorded_as_json_or_masked_text(
    body: bytes, content_type: str | None, data: Any, text: str | None
) -> None:
    recorded, _ = mask_body(body, content_type, key=KEY)
    assert (recorded.data, recorded.text) == (data, text)


ANSWERS = [
    (answer(), True),
    (answer(side="pdt"), False),
    (
        Answer(
            status=503,
            body=b"{}",
            content_type="application/json",
            side="legacy",
            stage="legacy",
            error=UpstreamTimeout("x"),
        ),
        False,
    ),
]


@pytest.mark.parametrize(("given", "expected"), ANSWERS)
def test_only_the_legacy_backends_own_answers_are_recordable(given: Answer, expected: bool) -> None:
    assert recordable(given) is expected


def test_pseudonyms_depend_on_the_key() -> None:
    first = entry_from_exchange(exchange(), answer(), key=KEY, now=MOMENT)
    second = entry_from_exchange(exchange(), answer(), key=b"o" * 32, now=MOMENT)
    assert first.request_body.data["Document"] != second.request_body.data["Document"]
    assert re.fullmatch(r"u[0-9a-f]{12}@example\.com", first.request_body.data["Email"])
