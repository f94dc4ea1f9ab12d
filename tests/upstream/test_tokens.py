"""TokenCache: reuse, refresh before expiry, single flight, shared failures, invalidation."""

from __future__ import annotations

import asyncio

import pytest

from proxy.errors import UpstreamRejected
from proxy.upstream import IssuedToken, TokenCache
from tests.upstream.support import FakeClock


class Issuer:
    """An authenticate function that counts its calls and can be held at a gate."""

    def __init__(self, *, lifetime_s: float = 3600.0, failures: int = 0) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self._lifetime_s = lifetime_s
        self._failures = failures

    async def __call__(self, key: str) -> IssuedToken:
        self.calls.append(key)
        await self.gate.wait()
        if self._failures:
            self._failures -= 1
            raise UpstreamRejected("refused", status=401, call="authentication")
        return IssuedToken(f"{key}-t{len(self.calls)}", self._lifetime_s)


def cache_for(issuer: Issuer, clock: FakeClock, *, margin_s: float = 60.0) -> TokenCache[str]:
    return TokenCache(issuer, refresh_margin_s=margin_s, clock=clock)


async def test_a_token_is_reused_until_it_is_due() -> None:
    issuer = Issuer()
    cache = cache_for(issuer, FakeClock())
    assert [await cache.get("acme") for _ in range(3)] == ["acme-t1"] * 3
    assert issuer.calls == ["acme"]


@pytest.mark.parametrize(
    ("lifetime_s", "margin_s", "still_reused_at", "refreshed_at"),
    [
        pytest.param(3600.0, 60.0, 3539.9, 3540.0, id="margin-before-expiry"),
        pytest.param(100.0, 0.0, 99.9, 100.0, id="no-margin"),
        # A lifetime shorter than twice the margin refreshes at half-life, not every call.
        pytest.param(60.0, 60.0, 29.9, 30.0, id="short-lived-token"),
    ],
)
async def test_a_token_is_refreshed_before_it_expires(
    lifetime_s: float, margin_s: float, still_reused_at: float, refreshed_at: float
) -> None:
    clock, issuer = FakeClock(), Issuer(lifetime_s=lifetime_s)
    cache = cache_for(issuer, clock, margin_s=margin_s)
    start = clock.now
    assert await cache.get("acme") == "acme-t1"
    clock.now = start + still_reused_at
    assert await cache.get("acme") == "acme-t1"
    clock.now = start + refreshed_at
    assert await cache.get("acme") == "acme-t2"
    assert len(issuer.calls) == 2


async def test_each_key_has_its_own_token() -> None:
    issuer = Issuer()
    cache = cache_for(issuer, FakeClock())
    assert (await cache.get("acme"), await cache.get("beta")) == ("acme-t1", "beta-t2")


async def test_concurrent_callers_on_a_cold_cache_share_one_authentication() -> None:
    issuer = Issuer()
    issuer.gate.clear()
    cache = cache_for(issuer, FakeClock())
    callers = [asyncio.create_task(cache.get("acme")) for _ in range(100)]
    # One loop pass lets every caller reach the cache while the fetch is held.
    await asyncio.sleep(0)
    issuer.gate.set()
    assert set(await asyncio.gather(*callers)) == {"acme-t1"}
    assert issuer.calls == ["acme"]


async def test_a_failed_authentication_reaches_every_waiter_and_the_next_caller_retries() -> None:
    issuer = Issuer(failures=1)
    issuer.gate.clear()
    cache = cache_for(issuer, FakeClock())
    callers = [asyncio.create_task(cache.get("acme")) for _ in range(50)]
    await asyncio.sleep(0)
    issuer.gate.set()
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(outcome, UpstreamRejected) for outcome in outcomes)
    assert len(issuer.calls) == 1
    assert await cache.get("acme") == "acme-t2"
    assert len(issuer.calls) == 2


async def test_a_caller_giving_up_does_not_cancel_the_shared_fetch() -> None:
    issuer = Issuer()
    issuer.gate.clear()
    cache = cache_for(issuer, FakeClock())
    impatient = asyncio.create_task(cache.get("acme"))
    patient = asyncio.create_task(cache.get("acme"))
    await asyncio.sleep(0)
    impatient.cancel()
    issuer.gate.set()
    assert await patient == "acme-t1"
    assert impatient.cancelled()
    assert issuer.calls == ["acme"]


@pytest.mark.parametrize(
    ("invalidated", "expected_next"),
    [
        pytest.param("acme-t1", "acme-t2", id="current-token-dropped"),
        # A late 401 for a token already replaced must not evict the fresh one.
        pytest.param("acme-t0", "acme-t1", id="stale-token-kept"),
    ],
)
async def test_invalidate_drops_only_the_current_token(invalidated: str, expected_next: str) -> None:
    cache = cache_for(Issuer(), FakeClock())
    await cache.get("acme")
    cache.invalidate("acme", invalidated)
    assert await cache.get("acme") == expected_next


async def test_aclose_cancels_a_fetch_in_flight() -> None:
    issuer = Issuer()
    issuer.gate.clear()
    cache = cache_for(issuer, FakeClock())
    waiter = asyncio.create_task(cache.get("acme"))
    await asyncio.sleep(0)
    await cache.aclose()
    with pytest.raises(asyncio.CancelledError):
        await waiter
