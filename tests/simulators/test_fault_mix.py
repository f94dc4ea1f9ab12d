"""The chaos fault mix: every kind as an upstream would send it, marked, counted, replayable."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from proxy.config import SimulatorSettings
from proxy.simulators.legacy import LegacySimulatorSettings
from proxy.simulators.middleware import (
    FAULT_KINDS,
    FAULT_MARKER,
    STATS_PATH,
    FaultKind,
    FaultMix,
    LatencyAndFaults,
)

from .legacy_support import DT_EXAMPLE, make_legacy_app, open_legacy
from .support import ACCOUNTS, FakeClock, make_app
from .test_legacy_faults import RecordedSleep


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """asyncio.sleep recorded, not waited: held answers and spikes cost no test time."""
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    return delays


def faulting(kind: FaultKind, **options: Any) -> httpx.AsyncClient:
    app = make_app(SimulatorSettings(fault_rate=1.0), seed=3, faults=FaultMix({kind: 1.0}, **options))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdt.test")


def test_a_mix_parses_from_a_command_line() -> None:
    mix = FaultMix.parse("503=2, 429=1,reset", timeout_ms=50)
    assert dict(mix.weights) == {"503": 2.0, "429": 1.0, "reset": 1.0}
    assert mix.timeout_ms == 50


@pytest.mark.parametrize("text", ["418=1", "503=x", "503=0", ""])
def test_a_bad_mix_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        FaultMix.parse(text)


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502), ("503", 503), ("504", 504)])
async def test_status_faults_answer_json_carrying_the_marker(kind: FaultKind, status: int) -> None:
    async with faulting(kind) as client:
        answer = await client.get("/v1/transaction/x")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert FAULT_MARKER in answer.json()["message"]


async def test_429_says_when_to_retry() -> None:
    async with faulting("429", retry_after_s=(2,)) as client:
        answer = await client.post("/v1/authentication", json={"Username": "acme", "Password": "x"})
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "2"
    assert FAULT_MARKER in answer.text


async def test_timeout_holds_the_answer_past_the_callers_patience(slept: list[float]) -> None:
    async with faulting("timeout", timeout_ms=1500) as client:
        answer = await client.get("/v1/transaction/x")
    assert slept == [1.5]
    assert answer.status_code == 504


async def test_malformed_answers_are_200s_the_caller_cannot_use() -> None:
    seen: set[str] = set()
    async with faulting("malformed") as client:
        for _ in range(30):
            answer = await client.get("/v1/transaction/x")
            assert answer.status_code == 200
            assert FAULT_MARKER in answer.text
            try:
                parsed = orjson.loads(answer.content)
            except orjson.JSONDecodeError:
                seen.add("html" if answer.headers["content-type"] == "text/html" else "truncated")
            else:
                assert isinstance(parsed, list)  # valid JSON of a shape no PDT call answers
                seen.add("wrong shape")
    assert seen == {"truncated", "html", "wrong shape"}


async def test_reset_starts_an_answer_and_never_finishes_it() -> None:
    """Returning with the body unfinished is what makes the server drop the connection."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("a faulted call never reaches the routes")

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = LatencyAndFaults(
        app, latency_ms=0, jitter_ms=0, fault_rate=1.0, rng=random.Random(1), mix=FaultMix({"reset": 1})
    )
    await middleware({"type": "http", "path": "/v1/transaction", "method": "POST"}, receive, send)
    start, body = sent
    declared = int(dict(start["headers"])[b"content-length"])
    assert start["status"] == 200
    assert body["more_body"] is True
    assert len(body["body"]) < declared


async def test_spikes_slow_calls_without_failing_them(slept: list[float]) -> None:
    mix = FaultMix({"503": 1.0}, spike_rate=1.0, spike_ms=(300.0, 400.0))
    app = make_app(SimulatorSettings(latency_ms=5), seed=5, faults=mix)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pdt.test"
    ) as client:
        answer = await client.post(
            "/v1/authentication", json={"Username": "acme", "Password": ACCOUNTS["acme"]}
        )
        stats = (await client.get(STATS_PATH)).json()
    assert answer.status_code == 200
    assert len(slept) == 1
    assert 0.305 <= slept[0] <= 0.405
    assert stats == {"calls": 1, "spikes": 1, "faults_total": 0, "faults": {}}


async def fault_counts(seed: int) -> tuple[list[int], dict[str, Any]]:
    mix = FaultMix({kind: 1.0 for kind in FAULT_KINDS if kind not in ("reset", "timeout")})
    app = make_app(SimulatorSettings(fault_rate=0.3), seed=seed, faults=mix)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pdt.test"
    ) as client:
        statuses = [(await client.get("/v1/transaction/x")).status_code for _ in range(300)]
        stats: dict[str, Any] = (await client.get(STATS_PATH)).json()
    return statuses, stats


async def test_the_counters_match_what_was_injected_and_a_seed_replays_it() -> None:
    statuses, stats = await fault_counts(11)
    assert stats["calls"] == 300
    # Unfaulted calls carry no token here: PDT's 401. Every other status is a fault.
    faulted = [status for status in statuses if status != 401]
    assert stats["faults_total"] == len(faulted)
    assert 0.2 < len(faulted) / 300 < 0.4
    for status in (500, 502, 503, 504, 429):
        assert stats["faults"].get(str(status), 0) == faulted.count(status)
    assert stats["faults"]["malformed"] == faulted.count(200)
    assert await fault_counts(11) == (statuses, stats)


async def test_without_a_mix_a_fault_is_still_pdts_plain_503() -> None:
    app = make_app(SimulatorSettings(fault_rate=1.0), seed=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://pdt.test"
    ) as client:
        answer = await client.get("/v1/transaction/x")
        stats = (await client.get(STATS_PATH)).json()
    assert answer.status_code == 503
    assert FAULT_MARKER not in answer.text
    assert stats["faults"] == {"503": 1}


async def test_the_legacy_simulator_counts_its_faults(clock: FakeClock) -> None:
    settings = LegacySimulatorSettings(fault_rate=0.5, timeout_rate=0.5, timeout_ms=10, seed=4)
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=RecordedSleep())) as legacy:
        statuses = []
        for _ in range(40):
            answer = await legacy.client.post("/products/v1/datatrust", json=DT_EXAMPLE)
            statuses.append(answer.status_code)
        stats = (await legacy.client.get(STATS_PATH)).json()
    assert stats["calls"] == 40
    assert stats["faults"]["503"] == statuses.count(503)
    assert stats["faults"]["timeout"] == statuses.count(504)
    assert stats["faults_total"] == statuses.count(503) + statuses.count(504)
