"""Which failures are repeatable, how long to wait, and the retry budget."""

from __future__ import annotations

import httpx
import pytest

from proxy.config import RetrySettings
from proxy.upstream.failures import (
    ConnectFailed,
    ConnectionLost,
    ConnectTimedOut,
    PoolTimedOut,
    ProtocolFailed,
    ReadTimedOut,
    TlsFailed,
)
from proxy.upstream.retry import RetryBudget, backoff_s, is_unsent, retry_after_s
from tests.upstream.support import FakeClock


@pytest.mark.parametrize(
    ("error", "unsent"),
    [
        pytest.param(ConnectFailed("refused"), True, id="refused"),
        pytest.param(TlsFailed("untrusted"), True, id="tls handshake"),
        pytest.param(ConnectTimedOut("slow connect"), True, id="connect timeout"),
        pytest.param(PoolTimedOut("no connection"), True, id="pool timeout"),
        pytest.param(ReadTimedOut("slow answer"), False, id="read timeout"),
        pytest.param(ConnectionLost("reset"), False, id="reset"),
        pytest.param(ProtocolFailed("garbage"), False, id="protocol"),
        pytest.param(httpx.ConnectError("refused"), False, id="a library's error is not the proxy's"),
        pytest.param(TimeoutError(), False, id="attempt timeout"),
    ],
)
def test_only_failures_before_sending_count_as_unsent(error: BaseException, unsent: bool) -> None:
    assert is_unsent(error) is unsent


@pytest.mark.parametrize(
    ("attempt", "draw", "expected_s"),
    [
        pytest.param(0, 1.0, 0.025, id="first retry ceiling is the base"),
        pytest.param(1, 1.0, 0.050, id="doubles"),
        pytest.param(3, 1.0, 0.200, id="doubles again"),
        pytest.param(10, 1.0, 0.250, id="capped"),
        pytest.param(3, 0.5, 0.100, id="full jitter: a uniform share of the ceiling"),
        pytest.param(3, 0.0, 0.0, id="jitter can be zero"),
    ],
)
def test_backoff_is_full_jitter_under_a_cap(attempt: int, draw: float, expected_s: float) -> None:
    assert backoff_s(attempt, RetrySettings(), lambda: draw) == pytest.approx(expected_s)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("3", 3.0, id="delta seconds"),
        pytest.param(" 0 ", 0.0, id="zero, padded"),
        pytest.param("Wed, 02 Dec 2026 12:00:10 GMT", 10.0, id="http date"),
        pytest.param("Wed, 02 Dec 2026 11:59:00 GMT", 0.0, id="http date in the past"),
        pytest.param("soon", None, id="unreadable"),
        pytest.param("-1", None, id="negative"),
    ],
)
def test_retry_after_reads_both_forms(header: str | None, seconds: float | None) -> None:
    noon = 1_796_212_800.0  # 2026-12-02T12:00:00Z
    assert retry_after_s(header, now=lambda: noon) == seconds


def test_the_budget_allows_a_share_of_the_traffic() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetrySettings(budget_ratio=0.2, budget_min_per_s=0), clock=clock)
    assert not budget.try_spend(), "no traffic yet, no floor: nothing to spend"
    for _ in range(10):
        budget.deposit()
    spent = sum(budget.try_spend() for _ in range(10))
    assert spent == 2


def test_the_floor_refills_with_time_up_to_a_cap() -> None:
    clock = FakeClock()
    budget = RetryBudget(RetrySettings(budget_ratio=0.0, budget_min_per_s=2), clock=clock)
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    clock.advance(1.0)
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    clock.advance(3600)
    # Capped at ten seconds' worth of the floor, not an hour's.
    assert sum(budget.try_spend() for _ in range(100)) == 20
