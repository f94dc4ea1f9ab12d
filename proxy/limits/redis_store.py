"""Token buckets shared by every worker and replica: one atomic script in Redis.

Why a script of our own and not the ``limits`` library: its strategies are
fixed, moving and sliding windows (a count per window), none of them a token
bucket, so "200 a second with bursts of 400" would change meaning the day Redis is
configured; and its async Redis storage brings a second client library beside
redis-py. The bucket here is GCRA (the generic cell rate algorithm), the token
bucket written as one number per key: the theoretical arrival time (TAT) of the
next request. A request is allowed when ``TAT + interval - burst * interval <=
now``; allowing it moves TAT on by one interval. Same decisions as
``proxy.limits.local.TokenBucket`` (the in-process bucket): ``burst`` at once,
then one per ``1/rate`` seconds.

Atomic because Redis runs a script alone: three replicas reading and writing the
same key never interleave. The clock is Redis's own (``TIME``), so replicas whose
clocks disagree still agree on every bucket. A key expires once its bucket would
be full again, so idle tenants and one-off usernames leave nothing behind.
"""

from __future__ import annotations

from typing import Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from proxy.limits.store import Rate

__all__ = ["GCRA_SCRIPT", "RedisBuckets", "redis_client"]

# KEYS[1]: the bucket. ARGV: interval (microseconds per token), burst, cost (1 to
# spend a token, 0 to only ask). Answers 0, or the microseconds until a token.
# TAT is written with "%.3f": Lua's tostring keeps 14 digits, and microseconds
# since 1970 have 16.
GCRA_SCRIPT: Final = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if allow_at > now then
  return math.ceil(allow_at - now)
end
if cost > 0 then
  local ttl_ms = math.ceil((new_tat - now) / 1000) + 1
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', ttl_ms)
end
return 0
"""


class RedisBuckets:
    """``Buckets`` in Redis; errors and timeouts propagate (``FallbackBuckets`` handles them)."""

    def __init__(self, client: aioredis.Redis, *, key_prefix: str) -> None:
        self._client = client
        self._prefix = key_prefix
        # EVALSHA, loading the script on the first NOSCRIPT (a restarted Redis).
        self._script = client.register_script(GCRA_SCRIPT)

    async def take(self, key: str, rate: Rate, cost: int = 1) -> float:
        interval_us = 1_000_000.0 / rate.per_s
        waited = await self._script(keys=[self._prefix + key], args=[repr(interval_us), rate.burst, cost])
        return int(waited) / 1_000_000 if waited else 0.0

    async def aclose(self) -> None:
        await self._client.aclose()


def redis_client(url: str, *, timeout_s: float) -> aioredis.Redis:
    """A pooled asyncio client that fails fast: no retries, short socket timeouts.

    redis-py retries a failed command three times by default; a limiter must
    instead decide now (``FallbackBuckets`` falls back to the per-replica limit).
    """
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
        # A limiter's keys and answers are small ASCII; bytes avoid a decode per call.
        decode_responses=False,
    )
