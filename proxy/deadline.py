"""A per-request time budget shared by every upstream call made for one legacy request."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    """Absolute point in monotonic time by which a legacy request must be answered.

    Upstream calls take ``min(call_timeout, deadline.remaining())`` so a slow first
    call leaves less room to the ones after it, and the legacy client is answered
    (with a legacy 504) before its own timeout fires.
    """

    __slots__ = ("_clock", "expires_at")

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.expires_at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self.expires_at

    def cap(self, timeout: float) -> float:
        """The timeout to give one call: its own limit, never beyond the deadline."""
        return min(timeout, self.remaining())
