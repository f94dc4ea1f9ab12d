"""Which side answers, per stage, and what the answer carries."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest

from proxy.errors import Forbidden
from proxy.migration_stage import Stage
from proxy.stages.dispatch import fallback_cause

from .support import LEGACY_ANSWER, TX, VALID_BODY, Rig, exchange, tenant


async def test_pdt_stage_never_calls_the_legacy_backend() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(), Stage("pdt"))
    assert (answer.side, answer.stage, answer.status) == ("pdt", "pdt", 200)
    body = orjson.loads(answer.body)
    assert body["transactionId"] == TX
    assert answer.transaction_id == TX
    assert answer.modules == ("scores", "ratings", "insights")
    assert rig.legacy["create"].call_count == 0


@pytest.mark.parametrize(
    "body",
    [VALID_BODY, b'{"Document": "123"}', b"not json at all"],
    ids=["valid", "invalid-for-the-contract", "not-json"],
)
async def test_legacy_stage_forwards_byte_for_byte_and_never_calls_pdt(body: bytes) -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(body=body), Stage("legacy"))
    assert (answer.side, answer.stage, answer.status) == ("legacy", "legacy", 200)
    assert answer.body == LEGACY_ANSWER
    assert rig.legacy["create"].calls.last.request.content == body
    assert rig.pdt["create"].call_count == 0


async def test_shadow_stage_answers_from_the_legacy_backend() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(), Stage("shadow"))
    assert (answer.side, answer.stage, answer.body) == ("legacy", "shadow", LEGACY_ANSWER)
    assert rig.pdt["create"].call_count == 0  # the shadow runner schedules the PDT side


@pytest.mark.parametrize(
    ("break_pdt", "cause"),
    [
        pytest.param(
            lambda rig: rig.pdt["create"].mock(return_value=httpx.Response(503)), "unavailable", id="5xx"
        ),
        pytest.param(
            lambda rig: rig.pdt["create"].mock(side_effect=httpx.ConnectError("down")),
            "unavailable",
            id="down",
        ),
        pytest.param(
            lambda rig: rig.pdt["scores"].mock(return_value=httpx.Response(201, json=[{"value": "high"}])),
            "unmappable",
            id="unmappable-answer",
        ),
        pytest.param(
            lambda rig: rig.pdt["create"].mock(return_value=httpx.Response(409)), "rejected", id="4xx"
        ),
    ],
)
async def test_fallback_answers_from_legacy_when_pdt_fails(break_pdt: object, cause: str) -> None:
    rig = Rig()
    break_pdt(rig)  # type: ignore[operator]
    answer = await rig.dispatcher().answer(exchange(), Stage("pdt-fallback"))
    assert (answer.side, answer.fallback, answer.body) == ("legacy", cause, LEGACY_ANSWER)


async def test_fallback_on_a_pdt_that_never_answers() -> None:
    rig = Rig(deadline_s=0.2)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    rig.pdt["create"].mock(side_effect=hang)
    answer = await rig.dispatcher().answer(exchange(), Stage("pdt-fallback"))
    assert (answer.side, answer.fallback) == ("legacy", "timeout")


async def test_fallback_keeps_the_clients_own_mistakes() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(body=b'{"Document": "123"}'), Stage("pdt-fallback"))
    assert (answer.side, answer.status, answer.fallback) == ("pdt", 400, None)
    assert "Document" in orjson.loads(answer.body)["errors"]
    assert rig.legacy["create"].call_count == 0


async def test_fallback_on_success_does_not_call_legacy() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(), Stage("pdt-fallback"))
    assert (answer.side, answer.fallback) == ("pdt", None)
    assert rig.legacy["create"].call_count == 0


@pytest.mark.parametrize(("percent", "side"), [(0, "legacy"), (100, "pdt")])
async def test_canary_extremes(percent: int, side: str) -> None:
    answer = await Rig().dispatcher().answer(exchange(), Stage("canary", percent))
    assert answer.side == side
    assert answer.stage == f"canary:{percent}"


async def test_canary_is_sticky_per_document_and_splits_people() -> None:
    from tests.mapping.support import make_cpf

    rig = Rig()
    dispatcher = rig.dispatcher()
    documents = [make_cpf(f"{n:09d}") for n in range(100, 300)]

    async def side(document: str) -> str:
        body = orjson.dumps({"Document": document})
        return (await dispatcher.answer(exchange(body=body), Stage("canary", 50))).side

    first = [await side(document) for document in documents]
    again = [await side(document) for document in documents]
    assert first == again
    # 200 people at 50 %: a binomial's 99.99 % range is about 100 +/- 28.
    assert 70 <= first.count("pdt") <= 130


async def test_canary_sends_an_invalid_body_to_the_legacy_authority() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(body=b'{"Document": "1"}'), Stage("canary", 100))
    assert answer.side == "legacy"


@pytest.mark.parametrize("stage", [Stage("canary", 100), Stage("pdt-fallback")])
async def test_reads_of_ids_pdt_does_not_know_go_to_legacy(stage: Stage) -> None:
    rig = Rig()
    rig.pdt.get(url__regex=r"/v1/transaction/L-1/all").mock(return_value=httpx.Response(404))
    read = exchange("datatrust.transaction.get", transaction_id="L-1")
    answer = await rig.dispatcher().answer(read, stage)
    assert (answer.side, answer.body) == ("legacy", LEGACY_ANSWER)
    assert rig.legacy["get"].calls.last.request.url.path == "/products/v1/datatrust/L-1"


async def test_reads_of_pdt_ids_stay_on_pdt_under_canary() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(
        exchange("datatrust.transaction.get", transaction_id=TX), Stage("canary", 0)
    )
    assert answer.side == "pdt"
    assert rig.legacy["get"].call_count == 0


async def test_a_tenant_without_legacy_credentials_gets_the_family_403() -> None:
    rig = Rig()
    answer = await rig.dispatcher().answer(exchange(who=lambda: tenant(legacy=False)), Stage("legacy"))
    assert answer.status == 403
    assert isinstance(answer.error, Forbidden)
    assert orjson.loads(answer.body) == {"message": "Authorization has been denied for this request."}


async def test_a_legacy_backend_that_is_down_gets_the_family_503() -> None:
    rig = Rig()
    rig.legacy["create"].mock(side_effect=httpx.ConnectError("down"))
    answer = await rig.dispatcher().answer(exchange(), Stage("legacy"))
    assert (answer.side, answer.status) == ("legacy", 503)
    assert "down" not in answer.body.decode()


def test_fallback_causes_are_declared_for_upstream_failures_only() -> None:
    from proxy.errors import (
        NotFound,
        ProxyError,
        UpstreamMalformed,
        UpstreamRejected,
        UpstreamTimeout,
        UpstreamUnavailable,
        ValidationFailed,
    )
    from proxy.stages.dispatch import Answer

    def cause(error: ProxyError | None) -> str | None:
        return fallback_cause(
            Answer(status=500, body=b"", content_type="x", side="pdt", stage="pdt-fallback", error=error)
        )

    assert cause(None) is None
    assert cause(UpstreamTimeout("t")) == "timeout"
    assert cause(UpstreamUnavailable("u")) == "unavailable"
    assert cause(UpstreamMalformed("m")) == "unmappable"
    assert cause(UpstreamRejected("r", status=409)) == "rejected"
    assert cause(NotFound("n")) == "not_found"
    assert cause(ProxyError()) == "internal"
    assert cause(ValidationFailed({"x": ["y"]})) is None
    assert cause(Forbidden("f")) is None


async def test_canary_reads_go_to_legacy_when_pdt_is_down() -> None:
    rig = Rig()
    rig.pdt.get(url__regex=r"/v1/transaction/L-1/all").mock(return_value=httpx.Response(503))
    answer = await rig.dispatcher().answer(
        exchange("datatrust.transaction.get", transaction_id="L-1"), Stage("canary", 0)
    )
    assert (answer.side, answer.status) == ("legacy", 200)


async def test_one_deadline_covers_both_sides_of_a_fallback() -> None:
    rig = Rig(deadline_s=0.5)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    rig.pdt["create"].mock(side_effect=hang)
    rig.legacy["create"].mock(side_effect=hang)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await rig.dispatcher().answer(exchange(), Stage("pdt-fallback"))
    # PDT had its share (0.3 s) and legacy the rest: the client waited one deadline, not two.
    assert answer.status == 504
    assert loop.time() - started < 1.0


@pytest.mark.parametrize("stage", [Stage("canary", 0), Stage("pdt-fallback")], ids=["canary", "fallback"])
@pytest.mark.parametrize(
    ("pdt_status", "legacy_status", "side", "status"),
    [
        pytest.param(503, 404, "pdt", 503, id="PDT failing, unknown to legacy: PDT's 503, not a false 404"),
        pytest.param(503, 200, "legacy", 200, id="PDT failing, legacy knows it: legacy answers"),
        pytest.param(404, 404, "legacy", 404, id="unknown to both: the legacy 404"),
    ],
)
async def test_a_read_pdt_failed_on_is_not_reported_missing_by_legacy(
    stage: Stage, pdt_status: int, legacy_status: int, side: str, status: int
) -> None:
    rig = Rig()
    rig.pdt.get(url__regex=r"/v1/transaction/X-1/all").mock(return_value=httpx.Response(pdt_status))
    rig.legacy["get"].mock(return_value=httpx.Response(legacy_status, json={"message": "x"}))
    answer = await rig.dispatcher().answer(exchange("datatrust.transaction.get", transaction_id="X-1"), stage)
    assert (answer.side, answer.status) == (side, status)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        pytest.param("sms_token", None, id="SMS maybe sent: no second one from legacy"),
        pytest.param("email_token", None, id="e-mail code maybe sent: no second one"),
        pytest.param("transaction", "timeout", id="a timed-out transaction falls back"),
    ],
)
def test_a_timed_out_code_send_is_never_repeated_on_the_legacy_side(error: str, cause: str | None) -> None:
    from proxy.errors import UpstreamTimeout
    from proxy.stages.dispatch import Answer

    timed_out = Answer(
        status=504,
        body=b"",
        content_type="x",
        side="pdt",
        stage="pdt-fallback",
        error=UpstreamTimeout("t", call=error),
    )
    assert fallback_cause(timed_out) == cause
