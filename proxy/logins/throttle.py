"""Failed logins per username and per client address, refused before argon2id.

Each failure spends a token from two buckets, the username's and the address's
(``logins.throttle_per_user``, ``logins.throttle_per_address``); a login whose
bucket is empty is answered with the family's 429 and ``Retry-After`` at once, so
the endpoint is neither a CPU denial of service (argon2id costs ~30 ms of a core)
nor a guessing oracle. Successful logins spend nothing.

Keys are hashes (BLAKE2b, 128 bits), not the username or address themselves: they
travel to Redis when it is configured and show in its key listings. Buckets live
where the tenant rate limits do (``proxy.limits``), so with Redis every replica
counts the same failures.
"""

from __future__ import annotations

import hashlib

from proxy.config import LoginThrottleSettings
from proxy.errors import RateLimited
from proxy.limits import Buckets, Rate

__all__ = ["LoginThrottle", "throttle_key"]


def _rate(settings: LoginThrottleSettings) -> Rate:
    return Rate(settings.failures_per_minute / 60.0, settings.burst)


def throttle_key(kind: str, value: str) -> str:
    """``kind:<hash of value>``: the same on every replica, the value not readable from it."""
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=16, person=kind.encode())
    return f"{kind}:{digest.hexdigest()}"


class LoginThrottle:
    def __init__(
        self, buckets: Buckets, *, per_user: LoginThrottleSettings, per_address: LoginThrottleSettings
    ) -> None:
        self._buckets = buckets
        self._user_rate = _rate(per_user)
        self._address_rate = _rate(per_address)

    async def check(self, username: str, address: str) -> None:
        """Raise ``RateLimited`` when either bucket has no failure left to spend."""
        wait_s = max(
            await self._buckets.take(throttle_key("login-user", username), self._user_rate, 0),
            await self._buckets.take(throttle_key("login-addr", address), self._address_rate, 0),
        )
        if wait_s > 0:
            raise RateLimited("too many failed logins", retry_after_s=wait_s)

    async def failed(self, username: str, address: str) -> None:
        """One failed login: a token from each bucket."""
        await self._buckets.take(throttle_key("login-user", username), self._user_rate)
        await self._buckets.take(throttle_key("login-addr", address), self._address_rate)
