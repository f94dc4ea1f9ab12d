"""Failed logins per username and per address; with Redis, counted across replicas."""

from __future__ import annotations

import pytest

from proxy.config import LoginThrottleSettings
from proxy.errors import RateLimited
from proxy.limits import LocalBuckets
from proxy.limits.redis_store import RedisBuckets, redis_client
from proxy.logins import LoginThrottle
from proxy.logins.throttle import throttle_key
from tests.limits.support import REDIS_URL, needs_redis, unique_prefix
from tests.upstream.support import FakeClock

PER_USER = LoginThrottleSettings(failures_per_minute=6, burst=3)
PER_ADDRESS = LoginThrottleSettings(failures_per_minute=60, burst=5)


@pytest.mark.parametrize(
    ("failures", "probe", "throttled"),
    [
        pytest.param([("u", "10.0.0.1")] * 2, ("u", "10.0.0.1"), False, id="under the user's burst"),
        pytest.param([("u", "10.0.0.1")] * 3, ("u", "10.0.0.1"), True, id="user's burst spent"),
        pytest.param([("u", "10.0.0.1")] * 3, ("u", "10.0.0.2"), True, id="the user from another address"),
        pytest.param([("u", "10.0.0.1")] * 3, ("v", "10.0.0.2"), False, id="another user elsewhere"),
        pytest.param(
            [(f"user-{n}", "10.0.0.1") for n in range(5)],
            ("w", "10.0.0.1"),
            True,
            id="address spraying users",
        ),
        pytest.param(
            [(f"user-{n}", "10.0.0.1") for n in range(5)], ("w", "10.0.0.9"), False, id="spray, other address"
        ),
    ],
)
async def test_who_is_throttled(
    failures: list[tuple[str, str]], probe: tuple[str, str], throttled: bool
) -> None:
    throttle = LoginThrottle(LocalBuckets(clock=FakeClock()), per_user=PER_USER, per_address=PER_ADDRESS)
    for username, address in failures:
        await throttle.check(username, address)
        await throttle.failed(username, address)
    if throttled:
        with pytest.raises(RateLimited) as refused:
            await throttle.check(*probe)
        assert refused.value.retry_after_s > 0
    else:
        await throttle.check(*probe)


async def test_the_user_may_try_again_once_a_token_refilled() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(LocalBuckets(clock=clock), per_user=PER_USER, per_address=PER_ADDRESS)
    for _ in range(3):
        await throttle.failed("u", "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        await throttle.check("u", "10.0.0.1")
    assert refused.value.retry_after_s == pytest.approx(10.0)  # 6 a minute
    clock.advance(10.0)
    await throttle.check("u", "10.0.0.1")


def test_keys_carry_no_username_or_address() -> None:
    key = throttle_key("login-user", "maria.souza@example.com")
    assert key.startswith("login-user:")
    assert "maria" not in key
    assert key == throttle_key("login-user", "maria.souza@example.com")  # same on every replica
    assert key != throttle_key("login-addr", "maria.souza@example.com")


@needs_redis
async def test_failures_on_one_replica_count_on_another() -> None:
    prefix = unique_prefix()
    stores = [RedisBuckets(redis_client(REDIS_URL, timeout_s=2.0), key_prefix=prefix) for _ in range(2)]
    one, two = (LoginThrottle(store, per_user=PER_USER, per_address=PER_ADDRESS) for store in stores)
    try:
        for _ in range(3):
            await one.failed("u", "10.0.0.1")
        with pytest.raises(RateLimited):
            await two.check("u", "10.0.0.7")
    finally:
        for store in stores:
            await store.aclose()
