"""PDT accounts and the bearer tokens they log in for."""

from __future__ import annotations

import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Final

__all__ = ["DEFAULT_MAX_SESSIONS", "Sessions"]

# Well-behaved callers reuse one token per credential; this only bounds misbehaving ones.
DEFAULT_MAX_SESSIONS: Final = 100_000
_BEARER: Final = "bearer "


class Sessions:
    """Username/password accounts and the live bearer tokens issued to them."""

    def __init__(
        self,
        accounts: Mapping[str, str],
        *,
        ttl_s: int,
        clock: Callable[[], float],
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        self.accounts: dict[str, str] = dict(accounts)
        self.ttl_s = ttl_s
        self._clock = clock
        self._max_sessions = max_sessions
        # Token -> (username, expiry). Every token gets the same lifetime, so insertion
        # order is expiry order and expired tokens are always at the front.
        self._live: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def add_account(self, username: str, password: str) -> None:
        self.accounts[username] = password

    def login(self, username: str, password: str) -> str | None:
        """A new bearer token, or None when the credentials are wrong."""
        expected = self.accounts.get(username)
        # compare_digest even for unknown users, so timing does not reveal which usernames exist.
        matches = hmac.compare_digest((expected or "").encode(), password.encode())
        if expected is None or not matches:
            return None
        now = self._clock()
        self._forget_expired(now)
        token = secrets.token_urlsafe(48)
        self._live[token] = (username, now + self.ttl_s)
        while len(self._live) > self._max_sessions:
            self._live.popitem(last=False)
        return token

    def owner_of(self, authorization: str | None) -> str | None:
        """The account an ``Authorization: Bearer`` header speaks for, if its token is live."""
        if authorization is None or not authorization.lower().startswith(_BEARER):
            return None
        session = self._live.get(authorization[len(_BEARER) :].strip())
        if session is None or session[1] <= self._clock():
            return None
        return session[0]

    def _forget_expired(self, now: float) -> None:
        while self._live:
            _, (_, expires_at) = next(iter(self._live.items()))
            if expires_at > now:
                return
            self._live.popitem(last=False)
