"""The legacy client: byte-for-byte forwarding under the tenant's own legacy login."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import respx

from proxy.config import TimeoutSettings
from proxy.deadline import Deadline
from proxy.errors import UpstreamMalformed, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from proxy.mapping.catalog import load_catalog
from proxy.upstream.legacy import LegacyAnswer, LegacyCall, LegacyClient, LegacyCredential, LegacyLogin
from tests.upstream.support import FakeClock

BASE = "https://legacy.test"
CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "mappings")
DT_LOGIN = LegacyLogin("/products/v1/authentication", CATALOG.products["datatrust-v1"].authentication.spec)
V1_LOGIN = LegacyLogin("/v1/authenticate", CATALOG.products["ffr"].authentication.spec)
NOW = 1_800_000_000.0  # the wall clock the v1 family's local expiry is read against


def credential(login: LegacyLogin = DT_LOGIN, username: str = "acme-legacy") -> LegacyCredential:
    return LegacyCredential("prd", login.path, username, "legacy-Secret-1")


def a_call(login: LegacyLogin = DT_LOGIN, *, seconds: float = 30.0) -> LegacyCall:
    return LegacyCall(credential(login), login, Deadline(seconds), "req-1")


def client(router: respx.Router, *, read_s: float = 5.0, clock: FakeClock | None = None) -> LegacyClient:
    return LegacyClient(
        httpx.MockTransport(router.handler),
        {"prd": BASE, "hml": "https://hml.legacy.test"},
        TimeoutSettings(read_s=read_s),
        clock=clock or FakeClock(),
        wall_clock=lambda: NOW,
    )


def dt_router(*, token: str = "legacy-tok-1", expires: Any = 3600) -> respx.Router:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.post("/products/v1/authentication", name="login").mock(
        return_value=httpx.Response(200, json={"token": token, "expiresInSeconds": expires})
    )
    return router


# Answers a backend may give, each to come back unchanged (test_legacy_wire.py too).
PASS_THROUGH = [
    pytest.param(200, "application/json; charset=utf-8", b'{"score":41.3,"x":[1,2]}', id="ok"),
    pytest.param(400, "application/problem+json", b'{"errors":{"Document":["bad"]}}', id="validation"),
    pytest.param(404, "application/json", b'{"message":"Transaction not found"}', id="not-found"),
    pytest.param(500, "text/html", b"<html>legacy crash</html>", id="legacy-5xx-returned-as-it-came"),
    pytest.param(200, None, b"", id="empty"),
]


@pytest.mark.parametrize(("status", "content_type", "body"), PASS_THROUGH)
async def test_answers_pass_through_byte_for_byte(status: int, content_type: str | None, body: bytes) -> None:
    router = dt_router()
    headers = {"content-type": content_type} if content_type else {}
    route = router.post("/products/v1/datatrust").mock(
        return_value=httpx.Response(status, headers=headers, content=body)
    )
    sent = b'{"Document":"123.456.789-09", "name" :"x"}'
    answer = await client(router).forward(
        a_call(), "POST", "/products/v1/datatrust", body=sent, content_type="application/json"
    )
    assert answer == LegacyAnswer(status, content_type, body)
    request = route.calls.last.request
    assert request.content == sent
    assert request.headers["authorization"] == "Bearer legacy-tok-1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-request-id"] == "req-1"
    assert "cookie" not in request.headers


async def test_path_and_query_are_kept() -> None:
    router = dt_router()
    route = router.get("/api/products/v1/datatrust/abc").mock(return_value=httpx.Response(200, json={}))
    await client(router).forward(a_call(), "GET", "/api/products/v1/datatrust/abc", query=b"x=1&y=%20")
    assert route.calls.last.request.url.query == b"x=1&y=%20"


async def test_one_login_serves_many_calls_and_concurrent_callers() -> None:
    router = dt_router()
    router.post("/products/v1/datatrust").mock(return_value=httpx.Response(200, json={}))
    legacy = client(router)
    await asyncio.gather(*(legacy.forward(a_call(), "POST", "/products/v1/datatrust") for _ in range(20)))
    await legacy.forward(a_call(), "POST", "/products/v1/datatrust")
    assert router["login"].call_count == 1
    login = router["login"].calls.last.request
    assert login.content == b'{"Username":"acme-legacy","Password":"legacy-Secret-1"}'


async def test_the_token_is_renewed_before_it_expires() -> None:
    clock = FakeClock()
    router = dt_router(expires=120)
    router.post("/products/v1/datatrust").mock(return_value=httpx.Response(200, json={}))
    legacy = client(router, clock=clock)
    await legacy.forward(a_call(), "POST", "/products/v1/datatrust")
    clock.advance(61)  # past expiry minus the 60 s margin
    await legacy.forward(a_call(), "POST", "/products/v1/datatrust")
    assert router["login"].call_count == 2


async def test_the_v1_family_logs_in_with_name_and_a_local_expiry() -> None:
    expires = datetime.fromtimestamp(NOW, ZoneInfo("America/Sao_Paulo")) + timedelta(hours=2)
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.post("/v1/authenticate", name="login").mock(
        return_value=httpx.Response(
            200, json={"Token": "v1-tok", "ExpirationDate": expires.strftime("%Y-%m-%dT%H:%M:%S")}
        )
    )
    route = router.post("/v1/fintech/fraud/score").mock(return_value=httpx.Response(200, json={"Score": 9}))
    clock = FakeClock()
    legacy = client(router, clock=clock)
    await legacy.forward(a_call(V1_LOGIN), "POST", "/v1/fintech/fraud/score", body=b"{}")
    assert (
        router["login"].calls.last.request.content == b'{"name":"acme-legacy","password":"legacy-Secret-1"}'
    )
    assert route.calls.last.request.headers["authorization"] == "Bearer v1-tok"
    clock.advance(7200 - 61)  # the local expiry was read as two hours: still cached
    await legacy.forward(a_call(V1_LOGIN), "POST", "/v1/fintech/fraud/score", body=b"{}")
    assert router["login"].call_count == 1


async def test_a_401_means_one_new_login_and_one_retry() -> None:
    router = dt_router()
    router.post("/products/v1/authentication", name="login").mock(
        side_effect=[
            httpx.Response(200, json={"token": "old", "expiresInSeconds": 3600}),
            httpx.Response(200, json={"token": "new", "expiresInSeconds": 3600}),
        ]
    )
    route = router.post("/products/v1/datatrust").mock(
        side_effect=[httpx.Response(401), httpx.Response(200, json={"ok": 1})]
    )
    answer = await client(router).forward(a_call(), "POST", "/products/v1/datatrust", body=b"{}")
    assert answer.status == 200
    assert [call.request.headers["authorization"] for call in route.calls] == ["Bearer old", "Bearer new"]


async def test_a_second_401_is_the_tenants_credentials_not_the_clients_fault() -> None:
    router = dt_router()
    router.post("/products/v1/datatrust").mock(return_value=httpx.Response(401, json={"message": "denied"}))
    with pytest.raises(UpstreamRejected):
        await client(router).forward(a_call(), "POST", "/products/v1/datatrust")


@pytest.mark.parametrize(
    ("login", "error"),
    [
        pytest.param(
            httpx.Response(400, json={"message": "Username or Password is incorrect"}),
            UpstreamRejected,
            id="refused",
        ),
        pytest.param(httpx.Response(503), UpstreamUnavailable, id="down"),
        pytest.param(httpx.Response(200, content=b"<html>"), UpstreamMalformed, id="not-json"),
        pytest.param(httpx.Response(200, json={"token": "t"}), UpstreamMalformed, id="no-expiry"),
        pytest.param(
            httpx.Response(200, json={"token": "t", "expiresInSeconds": 0}), UpstreamMalformed, id="expired"
        ),
        pytest.param(
            httpx.Response(200, json={"token": "", "expiresInSeconds": 60}),
            UpstreamMalformed,
            id="empty-token",
        ),
    ],
)
async def test_login_failures(login: httpx.Response, error: type[Exception]) -> None:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.post("/products/v1/authentication").mock(return_value=login)
    route = router.post("/products/v1/datatrust").mock(return_value=httpx.Response(200))
    with pytest.raises(error):
        await client(router).forward(a_call(), "POST", "/products/v1/datatrust")
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("side_effect", "error"),
    [
        pytest.param(httpx.ConnectError("refused"), UpstreamUnavailable, id="connect"),
        pytest.param(httpx.ReadTimeout("slow"), UpstreamTimeout, id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("reset"), UpstreamUnavailable, id="protocol"),
    ],
)
async def test_network_failures(side_effect: Exception, error: type[Exception]) -> None:
    router = dt_router()
    router.post("/products/v1/datatrust").mock(side_effect=side_effect)
    with pytest.raises(error) as caught:
        await client(router).forward(a_call(), "POST", "/products/v1/datatrust")
    assert BASE not in str(caught.value)


async def test_an_oversized_answer_is_refused() -> None:
    router = dt_router()
    router.post("/products/v1/datatrust").mock(
        return_value=httpx.Response(200, content=b"x" * (1024 * 1024 + 1))
    )
    with pytest.raises(UpstreamMalformed, match="over"):
        await client(router).forward(a_call(), "POST", "/products/v1/datatrust")


async def test_nothing_is_sent_after_the_deadline() -> None:
    router = dt_router()
    route = router.post("/products/v1/datatrust").mock(return_value=httpx.Response(200))
    with pytest.raises(UpstreamTimeout, match="not sent"):
        await client(router).forward(a_call(seconds=0.0), "POST", "/products/v1/datatrust")
    assert route.call_count == 0


async def test_a_backend_slower_than_the_deadline_times_out() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("authentication"):
            return httpx.Response(200, json={"token": "t", "expiresInSeconds": 60})
        await asyncio.sleep(10)
        return httpx.Response(200)

    legacy = LegacyClient(httpx.MockTransport(slow), {"prd": BASE}, TimeoutSettings())
    with pytest.raises(UpstreamTimeout):
        await legacy.forward(a_call(seconds=0.05), "POST", "/products/v1/datatrust")


async def test_an_environment_without_a_backend_is_a_configuration_error() -> None:
    from proxy.errors import ConfigError

    legacy = LegacyClient(httpx.MockTransport(lambda request: httpx.Response(200)), {}, TimeoutSettings())
    with pytest.raises(ConfigError, match="no legacy backend configured"):
        await legacy.forward(a_call(), "POST", "/products/v1/datatrust")


def test_the_password_never_shows_in_reprs() -> None:
    assert "legacy-Secret-1" not in repr(credential())
    assert "legacy-Secret-1" not in repr(a_call())


async def test_a_product_with_its_own_host_is_forwarded_there() -> None:
    router = respx.Router(assert_all_called=False)
    router.post("https://ffr.bank.test/v1/authenticate", name="login").mock(
        return_value=httpx.Response(200, json={"Token": "t", "ExpirationDate": "2099-01-01T00:00:00"})
    )
    route = router.post("https://ffr.bank.test/v1/fintech/fraud/score").mock(return_value=httpx.Response(200))
    legacy = LegacyClient(
        httpx.MockTransport(router.handler),
        {"prd": BASE},
        TimeoutSettings(),
        product_base_urls={("ffr", "prd"): "https://ffr.bank.test/"},
    )
    account = LegacyCredential("prd", V1_LOGIN.path, "acme-legacy", "legacy-Secret-1", "ffr")
    call = LegacyCall(account, V1_LOGIN, Deadline(5.0), None, "ffr")
    assert (await legacy.forward(call, "POST", "/v1/fintech/fraud/score", body=b"{}")).status == 200
    assert route.call_count == 1
    assert router["login"].call_count == 1
