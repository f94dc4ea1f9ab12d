"""Requests per second per tenant: a token bucket each, refused with the family's 429.

Limits are per worker and per tenant, not global: a bucket in process memory costs
a few arithmetic operations per request and no round trip, and a tenant's rate over
N workers is N times its setting (operators size it that way; README). The point is
that one tenant's runaway retry loop cannot take the capacity every other bank's
onboarding flow shares, not metering to the request: the ledger does that.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from proxy.config import RateLimitSettings
from proxy.errors import RateLimited

__all__ = ["TenantRateLimiter", "TokenBucket"]


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; one request takes one."""

    __slots__ = ("_burst", "_clock", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> float:
        """0.0 when a token was taken; else the seconds until one is available."""
        now = self._clock()
        tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self._rate


class TenantRateLimiter:
    """One bucket per tenant, made on its first request (tenants are a fixed, known set)."""

    def __init__(self, default: RateLimitSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._default = default
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, tenant: str, limit: RateLimitSettings | None = None) -> None:
        """Take one request's token for ``tenant`` or raise ``RateLimited``."""
        bucket = self._buckets.get(tenant)
        if bucket is None:
            settings = limit or self._default
            bucket = TokenBucket(settings.requests_per_s, settings.burst, clock=self._clock)
            self._buckets[tenant] = bucket
        wait_s = bucket.take()
        if wait_s > 0:
            raise RateLimited(f"tenant {tenant} is over its request rate", retry_after_s=wait_s)
