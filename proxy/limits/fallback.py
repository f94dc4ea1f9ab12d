"""Shared counters while Redis answers, per-replica ones while it does not.

A limiter must never be the reason a bank's fraud check fails: when Redis is down
or slower than ``redis.timeout_ms``, the decision is taken by this replica's own
buckets (the limit then holds per replica, as it did before Redis). Every such
decision is counted (``pdt_proxy_limit_fallbacks_total``); the log says when Redis
went away and came back and, while it stays away, one line per
``redis.log_interval_s`` with how many decisions were taken locally, never a line
per request (a busy replica would write thousands a second).

While down, one request per ``redis.retry_interval_s`` tries Redis again; the
others go local at once instead of each waiting out a timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from proxy.limits.local import LocalBuckets
from proxy.limits.store import Buckets, Rate
from proxy.observability.logging import get_logger

__all__ = ["FallbackBuckets"]

_log = get_logger(__name__)


class FallbackBuckets:
    def __init__(
        self,
        shared: Buckets,
        local: LocalBuckets,
        *,
        timeout_s: float,
        retry_interval_s: float,
        log_interval_s: float,
        on_fallback: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._shared = shared
        self._local = local
        self._timeout_s = timeout_s
        self._retry_interval_s = retry_interval_s
        self._log_interval_s = log_interval_s
        self._on_fallback = on_fallback
        self._clock = clock
        self._down = False
        self._next_try = 0.0
        self._next_log = 0.0
        self._local_decisions = 0

    @property
    def shared_available(self) -> bool:
        """False from a failed Redis call until one succeeds again."""
        return not self._down

    async def take(self, key: str, rate: Rate, cost: int = 1) -> float:
        now = self._clock()
        if not self._down or now >= self._next_try:
            if self._down:
                # This request probes; the ones arriving meanwhile stay local.
                self._next_try = now + self._retry_interval_s
            try:
                async with asyncio.timeout(self._timeout_s):
                    wait = await self._shared.take(key, rate, cost)
            except (RedisError, OSError, TimeoutError) as error:
                self._went_down(error)
            else:
                if self._down:
                    self._came_back()
                return wait
        self._local_decisions += 1
        self._on_fallback(key.partition(":")[0])
        if self._clock() >= self._next_log:
            self._next_log = self._clock() + self._log_interval_s
            _log.warning(
                "shared limits unavailable: per-replica limits decide",
                local_decisions=self._local_decisions,
            )
        return self._local.take_now(key, rate, cost)

    async def aclose(self) -> None:
        try:
            await self._shared.aclose()
        finally:
            await self._local.aclose()

    def _went_down(self, error: BaseException) -> None:
        now = self._clock()
        self._next_try = now + self._retry_interval_s
        if not self._down:
            self._down = True
            self._local_decisions = 0
            self._next_log = now + self._log_interval_s
            # The type only: a Redis error message may quote the URL, password included.
            _log.warning(
                "shared limits unreachable: falling back to per-replica limits",
                error=type(error).__name__,
                retry_interval_s=self._retry_interval_s,
            )

    def _came_back(self) -> None:
        self._down = False
        _log.info("shared limits reachable again", local_decisions=self._local_decisions)
        self._local_decisions = 0
