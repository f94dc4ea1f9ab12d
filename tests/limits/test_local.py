"""In-process token buckets: the bucket's answers, and the bound on how many are kept."""

from __future__ import annotations

import pytest

from proxy.limits import LocalBuckets, Rate, TokenBucket
from tests.upstream.support import FakeClock


@pytest.mark.parametrize(
    ("rate", "burst", "steps", "expected"),
    [
        pytest.param(1.0, 2, [0, 0, 0], [0.0, 0.0, 1.0], id="burst then wait a whole token"),
        pytest.param(10.0, 1, [0, 0.05, 0.05], [0.0, 0.05, 0.0], id="refills at the rate"),
        pytest.param(2.0, 1, [0, 100, 0], [0.0, 0.0, 0.5], id="never more than the burst"),
    ],
)
def test_the_bucket_answers_how_long_to_wait(
    rate: float, burst: int, steps: list[float], expected: list[float]
) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)
    waits = []
    for step in steps:
        clock.advance(step)
        waits.append(bucket.take())
    assert waits == pytest.approx(expected)


@pytest.mark.parametrize(
    ("costs", "expected"),
    [
        pytest.param([0, 0, 0], [0.0, 0.0, 0.0], id="asking spends nothing"),
        pytest.param([1, 0], [0.0, 1.0], id="asking an empty bucket gives the wait"),
        pytest.param([0, 1, 1], [0.0, 0.0, 1.0], id="asking then spending"),
    ],
)
def test_cost_zero_only_asks(costs: list[int], expected: list[float]) -> None:
    bucket = TokenBucket(1.0, 1, clock=FakeClock())
    assert [bucket.take(cost) for cost in costs] == pytest.approx(expected)


async def test_keys_are_independent_and_a_changed_rate_starts_a_fresh_bucket() -> None:
    buckets = LocalBuckets(clock=FakeClock())
    one = Rate(1.0, 1)
    assert await buckets.take("tenant:acme", one) == 0.0
    assert await buckets.take("tenant:acme", one) == pytest.approx(1.0)
    assert await buckets.take("tenant:globex", one) == 0.0
    # The tenant file now gives acme three: a new bucket, full.
    assert await buckets.take("tenant:acme", Rate(1.0, 3)) == 0.0


def test_the_number_of_buckets_is_bounded_the_oldest_draining_ones_going() -> None:
    buckets = LocalBuckets(max_keys=100, clock=FakeClock())
    slow = Rate(0.001, 2)
    for index in range(100):
        buckets.take_now(f"login-user:{index}", slow, 2)  # each bucket emptied
    buckets.take_now("login-user:new", slow)
    assert len(buckets) <= 100
    # The newest keep their state (still empty); the oldest were forgotten (fresh, full).
    assert buckets.take_now("login-user:99", slow, 0) > 0
    assert buckets.take_now("login-user:0", slow, 0) == 0.0


def test_a_busy_bucket_outlives_a_spray_of_new_keys() -> None:
    clock = FakeClock()
    buckets = LocalBuckets(max_keys=100, clock=clock)
    tenant = Rate(0.001, 1000)
    buckets.take_now("tenant:acme", tenant, 500)  # first in, half spent
    for index in range(1000):
        clock.advance(0.001)
        buckets.take_now(f"login-user:{index}", Rate(0.001, 2), 2)
        buckets.take_now("tenant:acme", tenant)  # used all along
    assert len(buckets) <= 100
    # Still the same bucket: 500 + 1000 spent of 1000 + what refilled, so it is empty.
    assert buckets.take_now("tenant:acme", tenant, 0) > 0


def test_buckets_that_have_refilled_are_dropped_first() -> None:
    clock = FakeClock()
    buckets = LocalBuckets(max_keys=100, clock=clock)
    slow = Rate(0.001, 2)
    for index in range(100):
        buckets.take_now(f"login-addr:{index}", slow)
    clock.advance(10_000)  # every bucket refilled: forgetting them changes nothing
    buckets.take_now("login-addr:new", slow)
    assert len(buckets) == 1


def test_a_rate_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="per_s"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="burst"):
        Rate(1, 0)
