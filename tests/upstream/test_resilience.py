"""Retries and breakers as the clients apply them: what is sent again, what never is.

Each case scripts the upstream's answers for one call and states how many times
the call reached the upstream and what the caller got. Sleeps are recorded, not
slept, and jitter draws 1.0 (the ceiling), so the waits are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from proxy.config import BreakerSettings, ResilienceSettings, RetrySettings
from proxy.deadline import Deadline
from proxy.errors import ProxyError, UpstreamTimeout, UpstreamUnavailable
from proxy.observability.labels import host_of
from proxy.observability.metrics import Metrics
from proxy.upstream import PdtClient
from proxy.upstream.legacy import LegacyCall, LegacyClient
from proxy.upstream.resilience import Resilience
from tests.upstream.support import BASE, TX, a_call, pdt_router, pdt_settings, token_answer
from tests.upstream.test_legacy import BASE as LEGACY_BASE
from tests.upstream.test_legacy import DT_LOGIN, credential, dt_router

Script = list[httpx.Response | Exception]


def scripted(script: Script) -> Callable[[httpx.Request], httpx.Response]:
    answers: Iterator[httpx.Response | Exception] = iter(script)

    def answer(request: httpx.Request) -> httpx.Response:
        got = next(answers)
        if isinstance(got, Exception):
            raise got
        return got

    return answer


def refused() -> Exception:
    return httpx.ConnectError("refused")


def read_timeout() -> Exception:
    return httpx.ReadTimeout("slow")


def reset() -> Exception:
    return httpx.ReadError("reset")


def ok_all() -> httpx.Response:
    return httpx.Response(200, json={"transactionId": TX})


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def resilience(
    sleeps: Recorder, *, retry: RetrySettings | None = None, breaker: BreakerSettings | None = None
) -> Resilience:
    settings = ResilienceSettings(retry=retry or RetrySettings(), breaker=breaker or BreakerSettings())
    return Resilience(settings, Metrics(), rng=lambda: 1.0, sleep=sleeps)


def pdt(router: respx.Router, guard: Resilience) -> PdtClient:
    return PdtClient(httpx.MockTransport(router.async_handler), pdt_settings(), resilience=guard)


# (id, method, script, attempts, error or None, sleeps)
PDT_CASES: list[tuple[str, str, Script, int, type[ProxyError] | None, list[float]]] = [
    ("GET 503 then ok", "GET", [httpx.Response(503), ok_all()], 2, None, [0.05]),
    ("GET 502 twice: one retry only", "GET", [httpx.Response(502)] * 2, 2, UpstreamUnavailable, [0.05]),
    ("GET 504 then ok", "GET", [httpx.Response(504), ok_all()], 2, None, [0.05]),
    ("GET read timeout then ok", "GET", [read_timeout(), ok_all()], 2, None, [0.05]),
    ("GET reset then ok", "GET", [reset(), ok_all()], 2, None, [0.05]),
    (
        "GET 429 Retry-After 0 then ok",
        "GET",
        [httpx.Response(429, headers={"Retry-After": "0"}), ok_all()],
        2,
        None,
        [0.05],
    ),
    (
        "GET 429 Retry-After 1 waits 1 s",
        "GET",
        [httpx.Response(429, headers={"Retry-After": "1"}), ok_all()],
        2,
        None,
        [1.0],
    ),
    (
        "GET 429 Retry-After 30: answered at once",
        "GET",
        [httpx.Response(429, headers={"Retry-After": "30"})],
        1,
        UpstreamUnavailable,
        [],
    ),
    ("GET 500 is not retried", "GET", [httpx.Response(500)], 1, UpstreamUnavailable, []),
    ("GET 404 is an answer", "GET", [httpx.Response(404)], 1, ProxyError, []),
    ("POST 503 never repeated", "POST", [httpx.Response(503)], 1, UpstreamUnavailable, []),
    ("POST read timeout never repeated", "POST", [read_timeout()], 1, UpstreamTimeout, []),
    ("POST reset never repeated", "POST", [reset()], 1, UpstreamUnavailable, []),
    ("POST refused connection: unsent, repeated", "POST", [refused(), ok_all()], 2, None, [0.05]),
    (
        "POST connect timeout: unsent, repeated",
        "POST",
        [httpx.ConnectTimeout("x"), ok_all()],
        2,
        None,
        [0.05],
    ),
    ("POST pool timeout: unsent, repeated", "POST", [httpx.PoolTimeout("x"), ok_all()], 2, None, [0.05]),
]


@pytest.mark.parametrize(
    ("method", "script", "attempts", "error", "sleeps"),
    [pytest.param(*case[1:], id=case[0]) for case in PDT_CASES],
)
async def test_pdt_calls_are_repeated_only_when_safe(
    method: str, script: Script, attempts: int, error: type[ProxyError] | None, sleeps: list[float]
) -> None:
    router = pdt_router()
    if method == "GET":
        route = router.get(f"/v1/transaction/{TX}/all").mock(side_effect=scripted(script))
    else:
        route = router.post("/v1/transaction").mock(side_effect=scripted(script))
    recorder = Recorder()
    client = pdt(router, resilience(recorder))

    async def once() -> None:
        if method == "GET":
            await client.get_all(a_call(), TX)
        else:
            await client.create_transaction(a_call(), {"document": "x"})

    try:
        if error is None:
            await once()
        else:
            with pytest.raises(error):
                await once()
    finally:
        await client.aclose()
    assert route.call_count == attempts
    assert recorder.sleeps == pytest.approx(sleeps)


async def test_pdt_login_is_repeated_like_a_read() -> None:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    login = router.post("/v1/authentication").mock(
        side_effect=scripted([httpx.Response(503), token_answer()])
    )
    router.post("/v1/transaction").mock(return_value=ok_all())
    client = pdt(router, resilience(Recorder()))
    try:
        await client.create_transaction(a_call(), {})
    finally:
        await client.aclose()
    assert login.call_count == 2


async def test_no_retry_without_budget() -> None:
    router = pdt_router()
    route = router.get(f"/v1/transaction/{TX}/all").mock(side_effect=scripted([httpx.Response(503)]))
    guard = resilience(Recorder(), retry=RetrySettings(budget_ratio=0, budget_min_per_s=0))
    client = pdt(router, guard)
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.get_all(a_call(), TX)
    finally:
        await client.aclose()
    assert route.call_count == 1


async def test_no_retry_when_the_deadline_cannot_hold_another_attempt() -> None:
    router = pdt_router()
    route = router.get(f"/v1/transaction/{TX}/all").mock(side_effect=scripted([httpx.Response(503)]))
    client = pdt(router, resilience(Recorder()))
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.get_all(a_call(seconds=0.22), TX)  # < 0.05 s backoff + 0.2 s attempt
    finally:
        await client.aclose()
    assert route.call_count == 1


async def test_an_open_breaker_refuses_without_sending() -> None:
    router = pdt_router()
    route = router.post("/v1/transaction").mock(return_value=httpx.Response(503))
    guard = resilience(Recorder(), breaker=BreakerSettings(consecutive_failures=3, open_s=60))
    client = pdt(router, guard)
    try:
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await client.create_transaction(a_call(), {})
        assert guard.states()["pdt"][host_of(BASE)] == "open"
        with pytest.raises(UpstreamUnavailable, match="circuit"):
            await client.create_transaction(a_call(), {})
    finally:
        await client.aclose()
    assert route.call_count == 3
    assert guard.states()["pdt"][host_of(BASE)] == "open"
    assert "legacy" not in guard.states()


async def test_4xx_answers_do_not_count_against_the_host() -> None:
    router = pdt_router()
    router.post("/v1/transaction").mock(return_value=httpx.Response(422))
    guard = resilience(Recorder(), breaker=BreakerSettings(consecutive_failures=2))
    client = pdt(router, guard)
    try:
        for _ in range(5):
            with pytest.raises(ProxyError):
                await client.create_transaction(a_call(), {})
    finally:
        await client.aclose()
    assert guard.states()["pdt"][host_of(BASE)] == "closed"


def legacy(router: respx.Router, guard: Resilience) -> LegacyClient:
    return LegacyClient(
        httpx.MockTransport(router.handler),
        {"prd": LEGACY_BASE},
        pdt_settings().timeouts,
        resilience=guard,
    )


# (id, method, script, attempts, final status or error)
LEGACY_CASES: list[tuple[str, str, Script, int, int | type[ProxyError]]] = [
    ("GET 503 then ok", "GET", [httpx.Response(503), httpx.Response(200, json={})], 2, 200),
    ("GET 503 twice: the backend's own 503 passed on", "GET", [httpx.Response(503)] * 2, 2, 503),
    ("GET reset then ok", "GET", [reset(), httpx.Response(200, json={})], 2, 200),
    ("POST 503 passed on, never repeated", "POST", [httpx.Response(503)], 1, 503),
    ("POST read timeout never repeated", "POST", [read_timeout()], 1, UpstreamTimeout),
    ("POST refused: unsent, repeated", "POST", [refused(), httpx.Response(200, json={})], 2, 200),
]


@pytest.mark.parametrize(
    ("method", "script", "attempts", "outcome"),
    [pytest.param(*case[1:], id=case[0]) for case in LEGACY_CASES],
)
async def test_legacy_forwarding_is_repeated_only_when_safe(
    method: str, script: Script, attempts: int, outcome: int | type[ProxyError]
) -> None:
    router = dt_router()
    route = router.route(method=method, path="/products/v1/datatrust").mock(side_effect=scripted(script))
    client = legacy(router, resilience(Recorder()))
    call = LegacyCall(credential(), DT_LOGIN, Deadline(30), "req-1")
    body: dict[str, Any] = {"body": b"{}"} if method == "POST" else {}
    try:
        if isinstance(outcome, int):
            answer = await client.forward(call, method, "/products/v1/datatrust", **body)
            assert answer.status == outcome
        else:
            with pytest.raises(outcome):
                await client.forward(call, method, "/products/v1/datatrust", **body)
    finally:
        await client.aclose()
    assert route.call_count == attempts


async def test_pdt_and_legacy_hosts_have_separate_breakers() -> None:
    guard = resilience(Recorder(), breaker=BreakerSettings(consecutive_failures=1))
    pdt_router_ = pdt_router()
    pdt_router_.post("/v1/transaction").mock(return_value=httpx.Response(503))
    client = pdt(pdt_router_, guard)
    try:
        with pytest.raises(UpstreamUnavailable):
            await client.create_transaction(a_call(), {})
    finally:
        await client.aclose()
    router = dt_router()
    router.get("/products/v1/datatrust/1").mock(return_value=httpx.Response(200, json={}))
    backend = legacy(router, guard)
    try:
        call = LegacyCall(credential(), DT_LOGIN, Deadline(30), "req-1")
        assert (await backend.forward(call, "GET", "/products/v1/datatrust/1")).status == 200
    finally:
        await backend.aclose()
    states = guard.states()
    assert states["legacy"] == {host_of(LEGACY_BASE): "closed"}
    assert states["pdt"][host_of(BASE)] == "open"


async def test_metrics_count_attempts_retries_and_breaker_moves() -> None:
    router = pdt_router()
    router.get(f"/v1/transaction/{TX}/all").mock(side_effect=scripted([httpx.Response(503), ok_all()]))
    router.post("/v1/transaction").mock(return_value=httpx.Response(503))
    metrics = Metrics()
    settings = ResilienceSettings(breaker=BreakerSettings(consecutive_failures=2))
    guard = Resilience(settings, metrics, rng=lambda: 1.0, sleep=Recorder())
    client = pdt(router, guard)
    try:
        await client.get_all(a_call(), TX)
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await client.create_transaction(a_call(), {})
    finally:
        await client.aclose()
    text = metrics.render()[0].decode()
    for line in (
        'pdt_proxy_upstream_calls_total{call="all",outcome="503",upstream="pdt"} 1.0',
        'pdt_proxy_upstream_calls_total{call="all",outcome="200",upstream="pdt"} 1.0',
        'pdt_proxy_upstream_retries_total{call="all",reason="503",upstream="pdt"} 1.0',
        'pdt_proxy_upstream_calls_total{call="transaction",outcome="circuit_open",upstream="pdt"} 1.0',
        'pdt_proxy_circuit_breaker_state{host="pdt.test"} 2.0',
        'pdt_proxy_circuit_breaker_transitions_total{host="pdt.test",state="open"} 1.0',
    ):
        assert line in text, line
