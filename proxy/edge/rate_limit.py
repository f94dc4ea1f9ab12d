"""Requests per second per tenant: a token bucket each, refused with the family's 429.

The buckets come from ``proxy.limits``: in this process on the embedded default (a
few arithmetic operations per request, no round trip; with N workers a tenant's
rate is then N times its setting), or in Redis when ``redis.url`` is set, where
every worker and replica spends from the same bucket (one script call per
request, falling back to this replica's own bucket when Redis does not answer).
The point is that one tenant's runaway retry loop cannot take the capacity every
other bank's onboarding flow shares, not metering to the request: the ledger does that.
"""

from __future__ import annotations

from proxy.config import RateLimitSettings
from proxy.errors import RateLimited
from proxy.limits import Buckets, LocalBuckets, Rate

__all__ = ["TenantRateLimiter"]


class TenantRateLimiter:
    """One bucket per tenant (``tenant:<id>``), shaped by the tenant's own limit or the default."""

    def __init__(self, default: RateLimitSettings, buckets: Buckets | None = None) -> None:
        self._default = default
        self._buckets: Buckets = buckets if buckets is not None else LocalBuckets()
        # The embedded default keeps today's cost: in-process buckets are asked
        # directly, without a coroutine per request.
        self._local = self._buckets if isinstance(self._buckets, LocalBuckets) else None
        # Per tenant: the settings object last seen and what it becomes, so a request
        # builds no key string and no Rate (a reloaded tenant file brings new objects).
        self._shapes: dict[str, tuple[RateLimitSettings, str, Rate]] = {}

    async def check(self, tenant: str, limit: RateLimitSettings | None = None) -> None:
        """Take one request's token for ``tenant`` or raise ``RateLimited``."""
        settings = limit or self._default
        shape = self._shapes.get(tenant)
        if shape is None or shape[0] is not settings:
            shape = (settings, f"tenant:{tenant}", Rate(settings.requests_per_s, settings.burst))
            self._shapes[tenant] = shape
        local = self._local
        wait_s = (
            local.take_now(shape[1], shape[2])
            if local is not None
            else await self._buckets.take(shape[1], shape[2])
        )
        if wait_s > 0:
            raise RateLimited(f"tenant {tenant} is over its request rate", retry_after_s=wait_s)
