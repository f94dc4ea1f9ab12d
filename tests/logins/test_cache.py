"""Verified secrets: recalled only for the exact secret, bounded in time and number."""

from __future__ import annotations

import pytest

from proxy.logins import VerifiedSecrets
from tests.upstream.support import FakeClock


@pytest.mark.parametrize(
    ("username", "secret", "after_s", "expected"),
    [
        pytest.param("acme-user", "s3cret", 0, "acme", id="the same secret"),
        pytest.param("acme-user", "s3cret", 299, "acme", id="within the lifetime"),
        pytest.param("acme-user", "s3cret", 300, None, id="expired"),
        pytest.param("acme-user", "s3creT", 0, None, id="another secret"),
        pytest.param("acme-user", "", 0, None, id="empty secret"),
        pytest.param("other-user", "s3cret", 0, None, id="another user, same secret"),
        pytest.param("acme-use", "rs3cret", 0, None, id="the boundary between name and secret moved"),
    ],
)
def test_recall(username: str, secret: str, after_s: float, expected: str | None) -> None:
    clock = FakeClock()
    cache = VerifiedSecrets(ttl_s=300, max_users=10, clock=clock)
    cache.remember("acme-user", "s3cret", "acme")
    clock.advance(after_s)
    assert cache.recall(username, secret) == expected


def test_the_secret_itself_is_not_kept() -> None:
    cache = VerifiedSecrets(ttl_s=300, max_users=10)
    cache.remember("acme-user", "s3cret-value", "acme")
    held = repr(cache._entries)
    assert "s3cret-value" not in held
    assert b"s3cret-value" not in b"".join(digest for digest, _, _ in cache._entries.values())


def test_at_most_max_users_the_oldest_verified_going_first() -> None:
    cache = VerifiedSecrets(ttl_s=300, max_users=2)
    cache.remember("a", "1", "t")
    cache.remember("b", "2", "t")
    cache.remember("a", "1", "t")  # verified again: now the newest
    cache.remember("c", "3", "t")
    assert len(cache) == 2
    assert cache.recall("b", "2") is None
    assert cache.recall("a", "1") == "t"
    assert cache.recall("c", "3") == "t"


@pytest.mark.parametrize(("ttl_s", "max_users"), [(0, 10), (300, 0)], ids=["no lifetime", "no room"])
def test_a_cache_sized_zero_remembers_nothing(ttl_s: float, max_users: int) -> None:
    cache = VerifiedSecrets(ttl_s=ttl_s, max_users=max_users)
    cache.remember("a", "1", "t")
    assert cache.recall("a", "1") is None


def test_drop_forgets_everyone() -> None:
    cache = VerifiedSecrets(ttl_s=300, max_users=10)
    cache.remember("a", "1", "t")
    cache.drop()
    assert cache.recall("a", "1") is None


def test_each_process_keys_its_digests_differently() -> None:
    one, two = VerifiedSecrets(ttl_s=300, max_users=10), VerifiedSecrets(ttl_s=300, max_users=10)
    one.remember("a", "1", "t")
    two.remember("a", "1", "t")
    assert one._entries["a"][0] != two._entries["a"][0]
