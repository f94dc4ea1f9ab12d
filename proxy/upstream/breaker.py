"""A circuit breaker per upstream host: stop calling a host that is failing, probe it to come back.

States, as gateways name them::

    closed ──(failure ratio over the window, or N failures in a row)──► open
    open ──(open_s elapsed, on time)──► half-open: up to ``half_open_probes`` calls let through
    half-open ──(a probe succeeds)──► closed      half-open ──(a probe fails)──► open

An open breaker half-opens when ``open_s`` has passed whether or not a call
arrives: ``state`` is read against the clock, and in a running event loop a timer
makes the move (so its metric and ``on_change`` follow) even with no traffic. A
breaker that only moved on traffic would read ``open`` forever on an idle replica.

While open, a call is refused before any network I/O (``UpstreamUnavailable``):
the legacy client gets its family's 503 at once, or the legacy backend under
``pdt-fallback``, instead of every request waiting out a timeout on a dead host.

The window is two fixed buckets (the current one and the one before it), weighted
by how far into the current bucket we are: a rolling count in O(1) memory and a
few arithmetic operations per call, cheap enough for the hot path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from proxy.config import BreakerSettings

__all__ = ["BreakerBoard", "BreakerState", "CircuitBreaker", "Permit"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to call: ``probe`` permits must report their outcome (they hold a probe slot)."""

    probe: bool = False


_CLOSED_PERMIT = Permit()
_PROBE_PERMIT = Permit(probe=True)


class CircuitBreaker:
    """The breaker of one upstream host. Not thread-safe: one per event loop (per worker)."""

    __slots__ = (
        "_bucket_start",
        "_calls",
        "_clock",
        "_consecutive",
        "_failures",
        "_opened_at",
        "_previous_calls",
        "_previous_failures",
        "_probes_in_flight",
        "_settings",
        "_state",
        "_timer",
        "name",
        "on_change",
    )

    def __init__(
        self,
        name: str,
        settings: BreakerSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self.name = name
        self._settings = settings
        self._clock = clock
        self.on_change = on_change
        self._state: BreakerState = "closed"
        self._timer: asyncio.TimerHandle | None = None
        self._bucket_start = clock()
        self._calls = 0
        self._failures = 0
        self._previous_calls = 0
        self._previous_failures = 0
        self._consecutive = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0

    @property
    def state(self) -> BreakerState:
        """The state now: an open breaker whose ``open_s`` has passed reads half-open."""
        if self._state == "open":
            self._half_open_if_due()
        return self._state

    def acquire(self) -> Permit | None:
        """A permit to call now, or None when the breaker refuses the call."""
        if self._state == "closed":
            return _CLOSED_PERMIT
        if self._state == "open" and not self._half_open_if_due():
            return None
        if self._probes_in_flight >= self._settings.half_open_probes:
            return None
        self._probes_in_flight += 1
        return _PROBE_PERMIT

    def record(self, permit: Permit, *, failed: bool) -> None:
        """The outcome of a call made under ``permit``."""
        if permit.probe:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            if self._state == "half_open":
                if failed:
                    self._open()
                else:
                    self._reset_counts()
                    self._move("closed")
                return
        if self._state != "closed":
            # A call let through before the breaker opened: its outcome is old news.
            return
        self._count(failed)
        if failed and self._should_open():
            self._open()

    def release(self, permit: Permit) -> None:
        """A permit given back unused (the call was cancelled before it had an outcome)."""
        if permit.probe:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)

    def _count(self, failed: bool) -> None:
        now = self._clock()
        window = self._settings.window_s
        elapsed = now - self._bucket_start
        if elapsed >= window:
            # One bucket ago becomes the previous bucket; further ago is forgotten.
            if elapsed >= 2 * window:
                self._previous_calls = self._previous_failures = 0
            else:
                self._previous_calls, self._previous_failures = self._calls, self._failures
            self._calls = self._failures = 0
            self._bucket_start = now - (elapsed % window)
        self._calls += 1
        if failed:
            self._failures += 1
            self._consecutive += 1
        else:
            self._consecutive = 0

    def _should_open(self) -> bool:
        settings = self._settings
        if self._consecutive >= settings.consecutive_failures:
            return True
        # The previous bucket counts for the part of it still inside the rolling window.
        weight = max(0.0, 1.0 - (self._clock() - self._bucket_start) / settings.window_s)
        calls = self._calls + self._previous_calls * weight
        if calls < settings.min_calls:
            return False
        failures = self._failures + self._previous_failures * weight
        return failures / calls >= settings.failure_ratio

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._reset_counts()
        self._move("open")
        self._schedule_half_open(self._settings.open_s)

    def _schedule_half_open(self, delay_s: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop (a synchronous caller): ``state`` and ``acquire`` still read the clock.
            self._timer = None
        else:
            self._timer = loop.call_later(delay_s, self._on_open_timer)

    def _on_open_timer(self) -> None:
        self._timer = None
        if self._state == "open" and not self._half_open_if_due():
            # The loop may run a timer a clock tick early: wait out the remainder.
            remaining = self._settings.open_s - (self._clock() - self._opened_at)
            self._schedule_half_open(max(remaining, 0.001))

    def _half_open_if_due(self) -> bool:
        """Move an open breaker to half-open once ``open_s`` has passed; True when it did."""
        if self._state != "open":
            return False
        if self._clock() - self._opened_at < self._settings.open_s:
            return False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._move("half_open")
        return True

    def _reset_counts(self) -> None:
        self._calls = self._failures = self._previous_calls = self._previous_failures = 0
        self._consecutive = 0
        self._bucket_start = self._clock()

    def _move(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = state
            if self.on_change is not None:
                self.on_change(self.name, state)


class BreakerBoard:
    """Every upstream host's breaker, made on first use, named by the host's origin."""

    def __init__(
        self,
        settings: BreakerSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._on_change = on_change
        self._breakers: dict[str, CircuitBreaker] = {}

    def for_host(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, self._settings, clock=self._clock, on_change=self._on_change)
            self._breakers[name] = breaker
        return breaker

    def states(self) -> dict[str, BreakerState]:
        """Each known host's state now (an open breaker past ``open_s`` reads half-open)."""
        return {name: breaker.state for name, breaker in sorted(self._breakers.items())}
