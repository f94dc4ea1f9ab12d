"""Secrets already verified by argon2id, remembered as keyed hashes for a short time.

What is kept per user is ``HMAC-SHA256(process key, username NUL secret)`` and the
tenant it unlocked, never the secret. The key is random per process and never
leaves memory, so a memory dump or a core file yields digests nobody can test
guesses against offline (unlike the argon2id hashes in the tenant file). A
presented secret matches only by ``hmac.compare_digest``, whose time does not
depend on where two digests differ.

Bounded twice: an entry lives ``ttl_s`` (minutes), and at most ``max_users``
entries are kept (the oldest verified goes first). ``drop`` forgets everything:
called when the tenant set changes, so a removed user or a changed password
stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

__all__ = ["VerifiedSecrets"]


class VerifiedSecrets:
    __slots__ = ("_clock", "_entries", "_key", "_max_users", "_ttl_s")

    def __init__(self, *, ttl_s: float, max_users: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._max_users = max_users
        self._clock = clock
        self._key = secrets.token_bytes(32)
        # username -> (digest, tenant id, expiry); insertion order is verification order.
        self._entries: dict[str, tuple[bytes, str, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def enabled(self) -> bool:
        return self._max_users > 0 and self._ttl_s > 0

    def recall(self, username: str, secret: str) -> str | None:
        """The tenant id ``username`` logged in to with exactly ``secret``, if verified lately."""
        entry = self._entries.get(username)
        if entry is None:
            return None
        digest, tenant_id, expires_at = entry
        if self._clock() >= expires_at:
            self._entries.pop(username, None)
            return None
        return tenant_id if hmac.compare_digest(digest, self._digest(username, secret)) else None

    def remember(self, username: str, secret: str, tenant_id: str) -> None:
        """After argon2id said yes: the next login with this secret skips it."""
        if not self.enabled:
            return
        # Re-inserted at the end: a user verified again is the newest, last to be evicted.
        self._entries.pop(username, None)
        while len(self._entries) >= self._max_users:
            del self._entries[next(iter(self._entries))]
        self._entries[username] = (self._digest(username, secret), tenant_id, self._clock() + self._ttl_s)

    def drop(self) -> None:
        """Forget every verified secret (the tenant set changed)."""
        self._entries.clear()

    def _digest(self, username: str, secret: str) -> bytes:
        # NUL cannot be part of a JSON or form value's meaning here: "ab"+"c" and "a"+"bc" differ.
        message = username.encode("utf-8", "surrogatepass") + b"\0" + secret.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()
