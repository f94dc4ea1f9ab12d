"""The counter store the settings ask for: in process, or Redis with a local fallback."""

from __future__ import annotations

from collections.abc import Callable

from proxy.config import RedisSettings
from proxy.limits.fallback import FallbackBuckets
from proxy.limits.local import LocalBuckets
from proxy.limits.redis_store import RedisBuckets, redis_client
from proxy.limits.store import Buckets

__all__ = ["build_buckets"]


def build_buckets(settings: RedisSettings, *, max_keys: int, on_fallback: Callable[[str], None]) -> Buckets:
    """``redis.url`` unset: the buckets live in this process (today's cost, no I/O).

    Creating the client opens no connection: a Redis that is down at startup costs
    the first requests a timeout and then the per-replica limit, never a failed start.
    """
    local = LocalBuckets(max_keys=max_keys)
    if settings.url is None:
        return local
    timeout_s = settings.timeout_ms / 1000
    shared = RedisBuckets(redis_client(settings.url, timeout_s=timeout_s), key_prefix=settings.key_prefix)
    return FallbackBuckets(
        shared,
        local,
        timeout_s=timeout_s,
        retry_interval_s=settings.retry_interval_s,
        log_interval_s=settings.log_interval_s,
        on_fallback=on_fallback,
    )
