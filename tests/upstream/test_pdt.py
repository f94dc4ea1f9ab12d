"""PdtClient: what goes on the wire, authentication and re-authentication, ids, deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
import respx

from proxy.errors import NotFound, UpstreamMalformed, UpstreamRejected, UpstreamTimeout
from proxy.upstream import PdtCall, PdtClient
from tests.upstream.support import (
    TX,
    FakeClock,
    a_call,
    pdt_client,
    pdt_router,
    pdt_settings,
    token_answer,
)

Invoke = Callable[[PdtClient, PdtCall], Awaitable[Any]]

TRANSACTION = {"document": "12345678909", "name": "Maria"}

# (how to call, method, path PDT sees, body PDT receives, PDT's status, PDT's answer, what the caller gets)
CALLS: list[Any] = [
    pytest.param(
        lambda c, call: c.create_transaction(call, TRANSACTION),
        "POST", "/v1/transaction", TRANSACTION, 201, {"id": TX}, {"id": TX},
        id="create_transaction",
    ),
    pytest.param(
        lambda c, call: c.create_pack(call, "onboarding-basic", TRANSACTION),
        "POST", "/v1/packs/onboarding-basic", TRANSACTION, 201, {"status": "completed"},
        {"status": "completed"},
        id="create_pack",
    ),
    pytest.param(
        lambda c, call: c.get_all(call, TX),
        "GET", f"/v1/transaction/{TX}/all", None, 200, {"scores": []}, {"scores": []},
        id="get_all",
    ),
    pytest.param(
        lambda c, call: c.request_modules(call, TX, ["scores"]),
        "POST", f"/v1/transaction/{TX}/scores", None, 201, [{"value": 53.1}], {"scores": [{"value": 53.1}]},
        id="one_module",
    ),
    pytest.param(
        lambda c, call: c.send_token(call, TX, "sms"),
        "POST", f"/v1/transaction/{TX}/sms/tokens", None, 201, {"status": "Waiting"}, {"status": "Waiting"},
        id="send_sms_token",
    ),
    pytest.param(
        lambda c, call: c.send_token(call, TX, "email"),
        "POST", f"/v1/transaction/{TX}/emails/tokens", None, 201, {"status": "Waiting"},
        {"status": "Waiting"},
        id="send_email_token",
    ),
    pytest.param(
        lambda c, call: c.validate_token(call, TX, "sms", "123456"),
        "POST", f"/v1/transaction/{TX}/sms/tokens/validate", {"value": "123456"}, 200, {"status": "Valid"},
        {"status": "Valid"},
        id="validate_sms_token",
    ),
    pytest.param(
        lambda c, call: c.validate_token(call, TX, "email", "654321"),
        "POST", f"/v1/transaction/{TX}/emails/tokens/validate", {"value": "654321"}, 200, {"status": "Valid"},
        {"status": "Valid"},
        id="validate_email_token",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("invoke", "method", "path", "sent", "status", "answer", "expected"), CALLS)
async def test_each_call_sends_json_with_a_bearer_token_and_returns_the_answer(
    router: respx.Router,
    pdt: PdtClient,
    invoke: Invoke,
    method: str,
    path: str,
    sent: Any,
    status: int,
    answer: Any,
    expected: Any,
) -> None:
    route = router.route(method=method, path=path).mock(return_value=httpx.Response(status, json=answer))
    assert await invoke(pdt, a_call(request_id="req-42")) == expected
    request = route.calls.last.request
    assert request.headers["authorization"] == "Bearer tok-1"
    assert request.headers["x-request-id"] == "req-42"
    if sent is None:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert orjson.loads(request.content) == sent
        assert request.headers["content-type"] == "application/json"


async def test_authentication_sends_the_credential_and_no_request_id_goes_out_when_none(
    router: respx.Router, pdt: PdtClient
) -> None:
    route = router.post("/v1/transaction").mock(return_value=httpx.Response(201, json={"id": TX}))
    await pdt.create_transaction(a_call(), TRANSACTION)
    assert orjson.loads(router["auth"].calls.last.request.content) == {
        "Username": "acme",
        "Password": "pw-Secret-77",
    }
    assert "x-request-id" not in route.calls.last.request.headers


async def test_the_token_is_reused_across_calls_and_refreshed_before_expiry(router: respx.Router) -> None:
    router["auth"].side_effect = [token_answer("tok-1", 3600), token_answer("tok-2", 3600)]
    route = router.post("/v1/transaction").mock(return_value=httpx.Response(201, json={"id": TX}))
    clock = FakeClock()
    async with pdt_client(router, clock=clock) as pdt:
        for _ in range(3):
            await pdt.create_transaction(a_call(), TRANSACTION)
        clock.advance(3600 - 60)
        await pdt.create_transaction(a_call(), TRANSACTION)
    bearers = [call.request.headers["authorization"] for call in route.calls]
    assert bearers == ["Bearer tok-1"] * 3 + ["Bearer tok-2"]


async def test_concurrent_calls_on_a_cold_client_authenticate_once(
    router: respx.Router, pdt: PdtClient
) -> None:
    route = router.post("/v1/transaction").mock(return_value=httpx.Response(201, json={"id": TX}))
    await asyncio.gather(*(pdt.create_transaction(a_call(), TRANSACTION) for _ in range(100)))
    assert router["auth"].call_count == 1
    assert route.call_count == 100


async def test_a_401_re_authenticates_once_and_retries_once(router: respx.Router, pdt: PdtClient) -> None:
    router["auth"].side_effect = [token_answer("tok-1"), token_answer("tok-2")]
    route = router.post("/v1/transaction")
    route.side_effect = [httpx.Response(401), httpx.Response(201, json={"id": TX})]
    assert await pdt.create_transaction(a_call(), TRANSACTION) == {"id": TX}
    assert [call.request.headers["authorization"] for call in route.calls] == ["Bearer tok-1", "Bearer tok-2"]
    assert router["auth"].call_count == 2


async def test_a_second_401_is_an_error_not_a_loop(router: respx.Router, pdt: PdtClient) -> None:
    route = router.post("/v1/transaction").mock(return_value=httpx.Response(401))
    with pytest.raises(UpstreamRejected) as caught:
        await pdt.create_transaction(a_call(), TRANSACTION)
    assert (caught.value.status, caught.value.call) == (401, "transaction")
    assert (route.call_count, router["auth"].call_count) == (2, 2)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(httpx.Response(401, json={"message": "Username or Password is incorrect"}),
                     UpstreamRejected, id="wrong-credentials"),
        pytest.param(token_answer(expires_in=True), UpstreamMalformed, id="boolean-lifetime"),
        pytest.param(token_answer(expires_in=0), UpstreamMalformed, id="zero-lifetime"),
        pytest.param(token_answer(""), UpstreamMalformed, id="empty-token"),
        pytest.param(httpx.Response(200, json=["tok"]), UpstreamMalformed, id="array"),
    ],
)  # fmt: skip
async def test_a_failed_authentication_fails_the_call_without_sending_it(
    router: respx.Router, pdt: PdtClient, answer: httpx.Response, error: type[Exception]
) -> None:
    router["auth"].mock(return_value=answer)
    route = router.post("/v1/transaction")
    with pytest.raises(error) as caught:
        await pdt.create_transaction(a_call(), TRANSACTION)
    assert getattr(caught.value, "call", None) == "authentication"
    assert "pw-Secret-77" not in str(caught.value)
    assert route.call_count == 0


HOSTILE_IDS = ["../admin", "..", ".", "", "a/b", "a?x=1", "a#b", "%2e%2e", "a b", "tx\n", "x" * 129, "ação"]


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
@pytest.mark.parametrize(
    "invoke",
    [
        pytest.param(lambda c, call, tid: c.get_all(call, tid), id="get_all"),
        pytest.param(lambda c, call, tid: c.request_modules(call, tid, ["scores", "ratings"]), id="modules"),
        pytest.param(lambda c, call, tid: c.send_token(call, tid, "sms"), id="send_token"),
        pytest.param(lambda c, call, tid: c.validate_token(call, tid, "email", "1"), id="validate_token"),
        pytest.param(lambda c, call, tid: c.create_pack(call, tid, TRANSACTION), id="pack_name"),
    ],
)
async def test_a_hostile_path_segment_is_not_found_without_calling_pdt(
    router: respx.Router,
    pdt: PdtClient,
    invoke: Callable[[PdtClient, PdtCall, str], Awaitable[Any]],
    hostile: str,
) -> None:
    with pytest.raises(NotFound):
        await invoke(pdt, a_call(), hostile)
    assert router.calls.call_count == 0


async def test_an_expired_deadline_fails_before_anything_is_sent(
    router: respx.Router, pdt: PdtClient
) -> None:
    clock = FakeClock()
    call = a_call(seconds=1.0, clock=clock)
    clock.advance(1.0)
    with pytest.raises(UpstreamTimeout) as caught:
        await pdt.get_all(call, TX)
    assert caught.value.call == "all"
    assert router.calls.call_count == 0


async def _never_answers(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("read_s", "deadline_s"),
    [pytest.param(30.0, 0.05, id="deadline-shorter"), pytest.param(0.05, 30.0, id="call-timeout-shorter")],
)
async def test_a_stuck_call_ends_at_the_shorter_of_deadline_and_call_timeout(
    read_s: float, deadline_s: float
) -> None:
    router = pdt_router()
    router.post(f"/v1/transaction/{TX}/scores").mock(side_effect=_never_answers)
    async with pdt_client(router, settings=pdt_settings(read_s=read_s)) as pdt:
        with pytest.raises(UpstreamTimeout) as caught:
            await pdt.request_modules(a_call(seconds=deadline_s), TX, ["scores"])
    assert (caught.value.call, caught.value.upstream) == ("scores", "pdt")


@pytest.mark.parametrize(
    "invoke",
    [
        pytest.param(lambda c, call: c.request_modules(call, TX, ["scores", "fraud"]), id="unknown-module"),
        pytest.param(lambda c, call: c.send_token(call, TX, "fax"), id="unknown-channel"),
    ],
)
async def test_a_programming_error_is_a_value_error(
    router: respx.Router, pdt: PdtClient, invoke: Invoke
) -> None:
    with pytest.raises(ValueError, match="unknown"):
        await invoke(pdt, a_call())
    assert router.calls.call_count == 0
