"""Token buckets in this process's memory: no I/O, a few arithmetic operations each.

The embedded default (one process, no Redis) and the per-replica fallback when
Redis does not answer. Keys may come from outside (login throttles key on the
presented username and the client address), so the number of buckets is bounded:
past ``max_keys`` the buckets that have refilled go first (forgetting a full
bucket changes nothing), then the least recently used (a busy tenant's bucket is
never the one a spray of usernames pushes out).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

from proxy.limits.store import Rate

__all__ = ["LocalBuckets", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; one request takes one."""

    __slots__ = ("_burst", "_clock", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self, cost: int = 1) -> float:
        """0.0 when a token was there (``cost`` of them taken); else the seconds until one is."""
        now = self._clock()
        tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - cost
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self._rate

    @property
    def last_used(self) -> float:
        return self._last

    def is_full(self) -> bool:
        """Refilled to its burst: the same as a bucket never used."""
        return self._tokens + (self._clock() - self._last) * self._rate >= self._burst


class LocalBuckets:
    """Token buckets by key, at most ``max_keys`` of them."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, tuple[Rate, TokenBucket]] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def take_now(self, key: str, rate: Rate, cost: int = 1) -> float:
        """``Buckets.take`` without the coroutine: for callers that know the store is local."""
        found = self._buckets.get(key)
        # Identity first: callers keep their Rate objects, and a dataclass == costs more.
        if found is None or (found[0] is not rate and found[0] != rate):
            # New key, or its limit changed (a tenant file edited): a fresh, full bucket.
            if found is None and len(self._buckets) >= self._max_keys:
                self._make_room()
            found = (rate, TokenBucket(rate.per_s, rate.burst, clock=self._clock))
            self._buckets[key] = found
        return found[1].take(cost)

    async def take(self, key: str, rate: Rate, cost: int = 1) -> float:
        return self.take_now(key, rate, cost)

    async def aclose(self) -> None:
        self._buckets.clear()

    def _make_room(self) -> None:
        full = [key for key, (_, bucket) in self._buckets.items() if bucket.is_full()]
        for key in full:
            del self._buckets[key]
        # A spray of keys that are all still draining: drop the least recently used
        # tenth, so the next inserts do not each pay a scan of every bucket.
        short = self._max_keys // 10 + 1 - len(full)
        if short > 0:
            idle = heapq.nsmallest(short, self._buckets.items(), key=lambda item: item[1][1].last_used)
            for key, _ in idle:
                del self._buckets[key]
