"""One legacy login: cache, throttle, argon2id, in that order, and its outcome counted.

1. A secret verified lately (``VerifiedSecrets``) is a success at the cost of one
   HMAC: no throttle round trip, no argon2id. This comes first so a client whose
   username an attacker is hammering keeps logging in with its known secret.
2. Otherwise the throttle (``LoginThrottle``) may refuse at once: the family's 429,
   no argon2id.
3. Otherwise argon2id (``TenantDirectory.authenticate``, which costs the same for
   an unknown username). A wrong secret always gets here: it can never match a
   cached digest, so it keeps argon2id's full cost. A failure spends throttle
   tokens; a success is remembered.

Outcomes counted in ``pdt_proxy_logins_total{product, outcome}``: ``cached``,
``verified``, ``bad_credentials``, ``throttled``; no username, address or tenant.
"""

from __future__ import annotations

from typing import Protocol

from proxy.errors import BadCredentials, RateLimited
from proxy.logins.cache import VerifiedSecrets
from proxy.logins.throttle import LoginThrottle
from proxy.tenants import Tenant, TenantDirectory

__all__ = ["LoginOutcomes", "Logins"]


class LoginOutcomes(Protocol):
    def count_login(self, *, product: str, outcome: str) -> None: ...


class Logins:
    def __init__(self, cache: VerifiedSecrets, throttle: LoginThrottle, outcomes: LoginOutcomes) -> None:
        self._cache = cache
        self._throttle = throttle
        self._outcomes = outcomes
        self._directory: TenantDirectory | None = None

    def forget_verified(self) -> None:
        """Drop every remembered secret: the next login of each user pays argon2id again."""
        self._cache.drop()

    async def authenticate(
        self, directory: TenantDirectory, username: str, secret: str, *, address: str, product: str
    ) -> Tenant:
        """The tenant of ``username``/``secret``; raises ``BadCredentials`` or ``RateLimited``."""
        if directory is not self._directory:
            # Another tenant set (a reload swapped it): secrets verified against the
            # old one prove nothing about the new one.
            self._cache.drop()
            self._directory = directory
        tenant_id = self._cache.recall(username, secret)
        if tenant_id is not None:
            tenant = directory.get(tenant_id)
            if tenant is not None:
                self._outcomes.count_login(product=product, outcome="cached")
                return tenant
        try:
            await self._throttle.check(username, address)
        except RateLimited:
            self._outcomes.count_login(product=product, outcome="throttled")
            raise
        try:
            tenant = await directory.authenticate(username, secret)
        except BadCredentials:
            self._outcomes.count_login(product=product, outcome="bad_credentials")
            await self._throttle.failed(username, address)
            raise
        self._cache.remember(username, secret, tenant.id)
        self._outcomes.count_login(product=product, outcome="verified")
        return tenant
