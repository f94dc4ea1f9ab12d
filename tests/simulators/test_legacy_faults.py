"""Injected latency, faults and timeouts in the legacy families' shapes; bugs never leak."""

from __future__ import annotations

import logging
from typing import Any, Final

import pytest

from proxy.simulators.legacy import LegacySimulatorSettings

from .legacy_support import DT_EXAMPLE, DT_PRD, FFR_EXAMPLE, V1_PRD, make_legacy_app, open_legacy
from .support import FakeClock

DT_UNAVAILABLE: Final = {"message": "The service is temporarily unavailable. Try again later."}
V1_FAILURE: Final = {"Message": "An error has occurred."}
DT_TIMEOUT: Final = {"message": "The service did not answer in time. Try again later."}


class RecordedSleep:
    """Stands in for asyncio.sleep: remembers every delay asked for, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


DT_LOGIN: Final = (f"{DT_PRD}/authentication", {"Username": "dt-user", "Password": "dt-secret"})
V1_LOGIN: Final = (f"{V1_PRD}/authenticate", {"name": "ffr-user", "password": "ffr-secret"})


@pytest.mark.parametrize(
    ("latency_ms", "jitter_ms"),
    [(20.0, 0.0), (5.0, 10.0), (0.0, 3.0)],
)
async def test_latency_is_requested_on_every_legacy_call(
    clock: FakeClock, latency_ms: float, jitter_ms: float
) -> None:
    sleep = RecordedSleep()
    settings = LegacySimulatorSettings(latency_ms=latency_ms, latency_jitter_ms=jitter_ms, seed=7)
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=sleep)) as legacy:
        for path, body in (DT_LOGIN, V1_LOGIN):
            assert (await legacy.client.post(path, json=body)).status_code == 200
        await legacy.datatrust(DT_EXAMPLE)  # logs in, then posts
    assert len(sleep.delays) == 4
    for delay in sleep.delays:
        assert latency_ms / 1000 <= delay <= (latency_ms + jitter_ms) / 1000


async def test_no_delay_outside_the_legacy_prefixes_or_when_unconfigured(clock: FakeClock) -> None:
    sleep = RecordedSleep()
    settings = LegacySimulatorSettings(latency_ms=50)
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=sleep)) as legacy:
        await legacy.client.get("/healthz")
    assert sleep.delays == []
    async with open_legacy(make_legacy_app(clock=clock, sleep=sleep)) as legacy:
        await legacy.datatrust(DT_EXAMPLE)
    assert sleep.delays == []


@pytest.mark.parametrize(
    ("login", "expected"),
    [(DT_LOGIN, DT_UNAVAILABLE), (V1_LOGIN, V1_FAILURE)],
)
async def test_faults_answer_the_family_503(
    clock: FakeClock, login: tuple[str, dict[str, str]], expected: dict[str, str]
) -> None:
    settings = LegacySimulatorSettings(fault_rate=1.0, seed=1)
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=RecordedSleep())) as legacy:
        answer = await legacy.client.post(login[0], json=login[1])
    assert answer.status_code == 503
    assert answer.json() == expected


@pytest.mark.parametrize(
    ("login", "expected"),
    [(DT_LOGIN, DT_TIMEOUT), (V1_LOGIN, V1_FAILURE)],
)
async def test_timeouts_hold_the_call_then_answer_the_family_504(
    clock: FakeClock, login: tuple[str, dict[str, str]], expected: dict[str, str]
) -> None:
    sleep = RecordedSleep()
    settings = LegacySimulatorSettings(timeout_rate=1.0, timeout_ms=12_000, seed=1)
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=sleep)) as legacy:
        answer = await legacy.client.post(login[0], json=login[1])
    assert (answer.status_code, answer.json()) == (504, expected)
    assert sleep.delays == [12.0]


async def statuses(clock: FakeClock, seed: int, count: int = 40) -> list[int]:
    settings = LegacySimulatorSettings(fault_rate=0.3, timeout_rate=0.2, timeout_ms=1, seed=seed)
    found = []
    async with open_legacy(make_legacy_app(settings, clock=clock, sleep=RecordedSleep())) as legacy:
        for _ in range(count):
            found.append((await legacy.client.post(V1_LOGIN[0], json=V1_LOGIN[1])).status_code)
    return found


async def test_fault_draws_replay_with_the_seed(clock: FakeClock) -> None:
    first, again, other = await statuses(clock, 3), await statuses(clock, 3), await statuses(clock, 4)
    assert first == again
    assert first != other
    assert set(first) == {200, 503, 504}


async def test_an_unexpected_error_is_the_family_500_without_details(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenStore:
        def add(self, transaction: Any) -> None:
            raise RuntimeError("disk on fire")

    async with open_legacy(make_legacy_app(clock=clock)) as legacy:
        legacy.sim.store = BrokenStore()  # type: ignore[assignment]
        headers = await legacy.dt_headers()
        with caplog.at_level(logging.ERROR):
            answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=headers)
            mt = await legacy.v1_headers("mt-user")
            mt_answer = await legacy.client.post(
                f"{V1_PRD}/mobiletrust/transaction",
                json={"Document": "19678335832", "AreaCode": "11", "Phone": "988056887"},
                headers=mt,
            )
    assert (answer.status_code, answer.json()) == (500, {"message": "An error has occurred."})
    assert (mt_answer.status_code, mt_answer.json()) == (500, V1_FAILURE)
    assert "disk on fire" not in answer.text
    logged = caplog.text
    assert "legacy simulator: unexpected error" in logged
    for secret in ("12345678909", "123.456.789-09", "maria@example.com", "988056887", "19678335832"):
        assert secret not in logged
    assert headers["Authorization"].split()[1] not in logged


async def test_ffr_still_answers_when_faults_are_off(clock: FakeClock) -> None:
    async with open_legacy(make_legacy_app(clock=clock)) as legacy:
        assert (await legacy.ffr(FFR_EXAMPLE))["OrderID"] == "FINTECH_20171205"
