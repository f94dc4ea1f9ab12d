"""PDT bearer tokens: one per credential, reused until shortly before expiry, fetched once.

PDT asks integrations to reuse a token until it expires. Under load, a cold or
expiring cache would otherwise send one authentication per concurrent request, so
each key has at most one fetch in flight and every caller waits on that one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

__all__ = ["IssuedToken", "TokenCache"]

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What an authentication answered: the token and its lifetime in seconds."""

    value: str
    expires_in_s: float


@dataclass(frozen=True, slots=True)
class _Held:
    value: str
    refresh_at: float


class TokenCache(Generic[K]):
    """Tokens by key, fetched through ``authenticate`` one flight per key at a time."""

    def __init__(
        self,
        authenticate: Callable[[K], Awaitable[IssuedToken]],
        *,
        refresh_margin_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._authenticate = authenticate
        self._margin_s = refresh_margin_s
        self._clock = clock
        self._held: dict[K, _Held] = {}
        self._flights: dict[K, asyncio.Task[str]] = {}

    async def get(self, key: K) -> str:
        """A valid token for ``key``; raises whatever ``authenticate`` raised when it failed.

        Every caller waiting on a failed fetch gets that failure; the next caller starts
        a new fetch.
        """
        held = self._held.get(key)
        if held is not None and self._clock() < held.refresh_at:
            return held.value
        flight = self._flights.get(key)
        # A finished flight whose done-callback has not run yet is not reused.
        if flight is None or flight.done():
            flight = asyncio.get_running_loop().create_task(self._fetch(key))
            self._flights[key] = flight
            flight.add_done_callback(partial(self._landed, key))
        # Shielded: a caller that gives up (its own deadline) must not cancel the
        # fetch the other callers are waiting on.
        return await asyncio.shield(flight)

    def invalidate(self, key: K, token: str) -> None:
        """Forget ``token`` if it is still the current one for ``key``.

        A 401 can arrive after another caller already replaced the token; dropping the
        fresh one would cost an extra authentication for nothing.
        """
        held = self._held.get(key)
        if held is not None and held.value == token:
            del self._held[key]

    async def aclose(self) -> None:
        """Cancel fetches still in flight (shutdown)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)

    async def _fetch(self, key: K) -> str:
        # The lifetime counts from before the call: the token may have been issued
        # at any moment while it was on the wire.
        started = self._clock()
        issued = await self._authenticate(key)
        # A token living less than twice the margin is refreshed at half-life rather
        # than on every call.
        margin = min(self._margin_s, issued.expires_in_s / 2)
        self._held[key] = _Held(issued.value, started + issued.expires_in_s - margin)
        return issued.value

    def _landed(self, key: K, flight: asyncio.Task[str]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            # Marks the outcome as retrieved: every waiter may have given up already,
            # and asyncio would then log the failure as never retrieved.
            flight.exception()
