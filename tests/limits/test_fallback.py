"""Redis down or slow: per-replica limits decide, counted and logged (not per request),
and Redis decides again once it answers."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from proxy.config import RateLimitSettings, RedisSettings
from proxy.edge.rate_limit import TenantRateLimiter
from proxy.errors import RateLimited
from proxy.limits import LocalBuckets, Rate, build_buckets
from proxy.limits.fallback import FallbackBuckets
from proxy.observability.metrics import Metrics
from tests.limits.support import closed_port_url
from tests.upstream.support import FakeClock

_LOGGER = "proxy.limits.fallback"


class ScriptedStore:
    """A shared store whose answers a test sets: a wait, an error, or a hang."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self.hang_s = 0.0
        self.calls = 0

    async def take(self, key: str, rate: Rate, cost: int = 1) -> float:
        self.calls += 1
        if self.hang_s:
            await asyncio.sleep(self.hang_s)
        if self.failure is not None:
            raise self.failure
        return 0.0

    async def aclose(self) -> None:
        return None


def _fallback_count(metrics: Metrics, limit: str) -> float:
    for line in metrics.render()[0].decode().splitlines():
        if line.startswith(f'pdt_proxy_limit_fallbacks_total{{limit="{limit}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(record.msg.get("event")) for record in caplog.records if record.name == _LOGGER]  # type: ignore[union-attr]


async def test_redis_unreachable_keeps_answering_with_per_replica_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = Metrics()
    settings = RedisSettings(url=closed_port_url(), timeout_ms=200, key_prefix="pdt-proxy-test:")
    buckets = build_buckets(settings, max_keys=1000, on_fallback=metrics.count_limit_fallback)
    assert isinstance(buckets, FallbackBuckets)
    limiter = TenantRateLimiter(RateLimitSettings(requests_per_s=0.01, burst=20), buckets)
    answers = []
    with caplog.at_level(logging.INFO, logger=_LOGGER):
        for _ in range(25):
            try:
                await limiter.check("acme")
                answers.append("ok")
            except RateLimited:
                answers.append("429")
    await buckets.aclose()
    # The replica's own bucket: its burst, then refusals; never an error.
    assert answers == ["ok"] * 20 + ["429"] * 5
    assert _fallback_count(metrics, "tenant") == 25
    assert not buckets.shared_available
    # One line for the outage, not one per request.
    assert _logged(caplog) == ["shared limits unreachable: falling back to per-replica limits"]


async def test_back_to_redis_once_it_answers_and_only_one_probe_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    shared = ScriptedStore()
    seen: list[str] = []
    buckets = FallbackBuckets(
        shared,
        LocalBuckets(clock=clock),
        timeout_s=1.0,
        retry_interval_s=1.0,
        log_interval_s=60.0,
        on_fallback=seen.append,
        clock=clock,
    )
    rate = Rate(100.0, 100)
    with caplog.at_level(logging.INFO, logger=_LOGGER):
        shared.failure = RedisConnectionError("down")
        for _ in range(5):
            await buckets.take("tenant:acme", rate)
        assert shared.calls == 1  # the first failure; the rest went local at once
        clock.advance(1.0)
        await buckets.take("login-user:abc", rate)
        assert shared.calls == 2  # one probe after the interval, still failing
        shared.failure = None
        clock.advance(1.0)
        assert await buckets.take("tenant:acme", rate) == 0.0
        assert shared.calls == 3
        assert buckets.shared_available
        await buckets.take("tenant:acme", rate)
        assert shared.calls == 4  # every decision is Redis's again
    assert seen == ["tenant"] * 5 + ["login-user"]
    assert _logged(caplog) == [
        "shared limits unreachable: falling back to per-replica limits",
        "shared limits reachable again",
    ]


async def test_a_slow_redis_counts_as_down() -> None:
    shared = ScriptedStore()
    shared.hang_s = 5.0
    seen: list[str] = []
    buckets = FallbackBuckets(
        shared,
        LocalBuckets(),
        timeout_s=0.05,
        retry_interval_s=60.0,
        log_interval_s=60.0,
        on_fallback=seen.append,
    )
    assert await buckets.take("tenant:acme", Rate(1.0, 1)) == 0.0
    assert await buckets.take("tenant:acme", Rate(1.0, 1)) > 0
    assert seen == ["tenant", "tenant"]
    assert shared.calls == 1


async def test_while_down_a_summary_line_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    shared = ScriptedStore()
    shared.failure = RedisConnectionError("down")
    buckets = FallbackBuckets(
        shared,
        LocalBuckets(clock=clock),
        timeout_s=1.0,
        retry_interval_s=1000.0,
        log_interval_s=60.0,
        on_fallback=lambda _: None,
        clock=clock,
    )
    with caplog.at_level(logging.INFO, logger=_LOGGER):
        for _ in range(3):
            for _ in range(100):
                await buckets.take("tenant:acme", Rate(1e6, 1_000_000))
            clock.advance(30.0)
    events = _logged(caplog)
    # 300 local decisions over 90 s: the outage line and one summary past the first minute.
    assert events == [
        "shared limits unreachable: falling back to per-replica limits",
        "shared limits unavailable: per-replica limits decide",
    ]


def test_without_a_redis_url_the_buckets_stay_in_process() -> None:
    buckets = build_buckets(RedisSettings(), max_keys=10, on_fallback=lambda _: None)
    assert isinstance(buckets, LocalBuckets)
