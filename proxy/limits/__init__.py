"""Counters that limit callers: token buckets, in process or shared through Redis.

    Buckets (store.py)            the one question every limit asks: may this key
    │                             spend one token now, and if not, how long to wait
    ├── LocalBuckets              in this process's memory: the embedded default, and
    │   (local.py)                the per-replica fallback
    ├── RedisBuckets              one atomic server-side script per decision, shared by
    │   (redis_store.py)          every worker and replica
    └── FallbackBuckets           Redis while it answers in time, LocalBuckets when it
        (fallback.py)             does not (counted and logged), Redis again once it does

``build_buckets`` (factory.py) picks from the settings. The tenant rate limit
(``proxy.edge.rate_limit``) and the login throttles (``proxy.logins``) both take
their tokens here, so one Redis setting shares both.
"""

from proxy.limits.factory import build_buckets
from proxy.limits.local import LocalBuckets, TokenBucket
from proxy.limits.store import Buckets, Rate

__all__ = ["Buckets", "LocalBuckets", "Rate", "TokenBucket", "build_buckets"]
