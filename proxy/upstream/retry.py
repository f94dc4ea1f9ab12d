"""When a failed upstream call may be sent again, how long to wait, and how many retries a host may cost.

Only what is safe to repeat is repeated:

* any call whose connection failed before the request was written (refused,
  connect timeout, no pooled connection in time): the upstream never saw it;
* calls that change nothing (logins, GETs) after any transient failure: a timeout,
  a reset, a 502/503/504, or a 429 whose ``Retry-After`` fits in the deadline.

A POST that reached PDT (a transaction, a module, an SMS) is never repeated: PDT
may have done it, and a second SMS or a second billed module is worse than a
legacy 503.

Retries are paid from a budget per upstream host (as Envoy and Finagle do): every
first attempt deposits ``budget_ratio`` of a retry, and a floor of
``budget_min_per_s`` refills with time so a quiet host can still retry. When an
upstream is failing, retries stay a bounded fraction of the traffic instead of
multiplying it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from proxy.config import RetrySettings
from proxy.upstream.failures import ConnectFailed, ConnectTimedOut, PoolTimedOut

__all__ = [
    "RETRYABLE_STATUSES",
    "RetryBudget",
    "backoff_s",
    "is_unsent",
    "retry_after_s",
]

# Statuses that say "not now" rather than "no": worth a second try for a safe call.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# The failures that happen before a byte of the request left: repeating cannot repeat anything.
_UNSENT = (ConnectFailed, ConnectTimedOut, PoolTimedOut)


def is_unsent(error: BaseException) -> bool:
    return isinstance(error, _UNSENT)


def backoff_s(attempt: int, settings: RetrySettings, rng: Callable[[], float] = random.random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)], so retries of many
    requests that failed together do not arrive together."""
    ceiling = min(settings.max_backoff_ms, settings.base_backoff_ms * (2.0**attempt)) / 1000
    return ceiling * rng()


def retry_after_s(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date).

    None when the header is absent or unreadable.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


class RetryBudget:
    """Retry tokens of one upstream host: deposits per request, a floor per second, a cap."""

    __slots__ = ("_cap", "_clock", "_floor_per_s", "_last", "_ratio", "_tokens")

    def __init__(self, settings: RetrySettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ratio = settings.budget_ratio
        self._floor_per_s = settings.budget_min_per_s
        # At most a burst of ten seconds' floor, or of the ratio over a hundred requests.
        self._cap = max(10 * settings.budget_min_per_s, 100 * settings.budget_ratio, 1.0)
        self._clock = clock
        self._last = clock()
        self._tokens = min(self._cap, float(settings.budget_min_per_s))

    def deposit(self) -> None:
        """One first attempt was made."""
        self._tokens = min(self._cap, self._tokens + self._ratio)

    def try_spend(self) -> bool:
        """Take one retry's worth, if there is one."""
        now = self._clock()
        self._tokens = min(self._cap, self._tokens + (now - self._last) * self._floor_per_s)
        self._last = now
        # Deposits are fractions: five of 0.2 must make a whole retry despite rounding.
        if self._tokens >= 1.0 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1.0)
            return True
        return False
