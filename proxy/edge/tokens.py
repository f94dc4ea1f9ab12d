"""The legacy tokens the proxy issues: signed, expiring, stateless.

A token is a JWT (HS256) naming the tenant, the legacy username, the environment
(PRD or HML prefix it was issued on) and the products that share the issuing
authentication endpoint. Any replica holding the shared key verifies it without
asking anyone, so ``serve --workers N`` and several pods need no shared session
store. Legacy clients reserve 2048 characters; these tokens stay far below.

Rotation: tokens are signed with the current key and carry its id (``kid``, a
hash of the key, never the key); keys listed as previous still verify the tokens
they signed. Keep a previous key for at least one token lifetime after the switch,
and roll the new key to every replica before any of them signs with it (list it as
previous everywhere first, then promote it).

The proxy never hands out a PDT or legacy-backend token: those stay inside.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import jwt

from proxy.errors import ConfigError, Unauthorized
from proxy.keys import MIN_KEY_BYTES

__all__ = ["LegacyTokens", "Principal", "key_id"]

_ALGORITHM = "HS256"
_ISSUER = "pdt-proxy"
MAX_TOKEN_LENGTH = 2048
_VERIFIED_CACHE_SIZE = 10_000
# Replicas' clocks drift a little; a token minted a second "in the future" is fine.
_CLOCK_SKEW_S = 5


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified legacy token speaks for."""

    tenant_id: str
    username: str
    environment: str
    products: frozenset[str]
    expires_at: int


class _WrongKey(Unauthorized):
    """The signature does not match this key (another key may have signed it)."""

    def __init__(self) -> None:
        super().__init__("legacy token invalid")


def key_id(key: bytes) -> str:
    """A short public name for a key: which key signed a token, revealing nothing of it."""
    return hashlib.sha256(b"pdt-proxy/legacy-token-kid\x00" + key).hexdigest()[:16]


class LegacyTokens:
    def __init__(
        self,
        key: bytes,
        *,
        ttl_s: int,
        previous_keys: Sequence[bytes] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        for candidate in (key, *previous_keys):
            if len(candidate) < MIN_KEY_BYTES:
                raise ConfigError(f"a legacy token key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self._kid = key_id(key)
        # Current first: a token without a kid (signed before kids existed) tries it first.
        self._keys = {key_id(k): k for k in (key, *previous_keys)}
        self.ttl_s = ttl_s
        self._clock = clock
        # Clients reuse a token until it expires, so the same few strings arrive
        # again and again: remember the verified claims instead of re-checking the
        # HMAC and re-decoding JSON each time. Expiry is still checked on every use.
        self._verified: dict[str, Principal] = {}

    def issue(
        self, *, tenant_id: str, username: str, environment: str, products: Iterable[str]
    ) -> tuple[str, int]:
        """A new token and its expiry (epoch seconds)."""
        now = int(self._clock())
        expires_at = now + self.ttl_s
        claims = {
            "iss": _ISSUER,
            "sub": username,
            "tid": tenant_id,
            "env": environment,
            "prd": sorted(products),
            "iat": now,
            "exp": expires_at,
        }
        token = jwt.encode(claims, self._key, algorithm=_ALGORITHM, headers={"kid": self._kid})
        return token, expires_at

    def verify(self, authorization: str | None, *, environment: str) -> Principal:
        """The principal of an ``Authorization: Bearer`` header; raises Unauthorized."""
        if not authorization or len(authorization) > MAX_TOKEN_LENGTH + 16:
            raise Unauthorized("missing or oversized authorization header")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("authorization is not a bearer token")
        token = token.strip()
        principal = self._verified.get(token)
        if principal is None:
            principal = self._decode(token)
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                # Cheap bound: forget everything; the next uses re-verify and refill.
                self._verified.clear()
            self._verified[token] = principal
        elif principal.expires_at <= self._clock():
            del self._verified[token]
            raise Unauthorized("legacy token expired")
        if principal.environment != environment:
            # An HML token on a PRD path: the legacy hosts kept separate credentials.
            raise Unauthorized("legacy token issued for another environment")
        return principal

    def _decode(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthorized("legacy token invalid") from None
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is not None:
            return self._decode_with(token, key)
        if kid is not None:
            # Signed by a key this replica does not hold (retired, or never ours).
            raise Unauthorized("legacy token invalid")
        # No kid: signed before tokens carried one. The key whose signature matches
        # decides; an expired or malformed token is refused by it, not retried.
        for candidate in self._keys.values():
            try:
                return self._decode_with(token, candidate)
            except _WrongKey:
                continue
        raise Unauthorized("legacy token invalid")

    def _decode_with(self, token: str, key: bytes) -> Principal:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                # Time claims are checked below against the injected clock, so the
                # verdict never depends on which clock PyJWT reads.
                options={
                    "require": ["exp", "iat", "sub", "tid", "env", "prd"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise _WrongKey from None
        except jwt.PyJWTError:
            raise Unauthorized("legacy token invalid") from None
        now = self._clock()
        if not isinstance(claims["exp"], int) or not isinstance(claims["iat"], int):
            raise Unauthorized("legacy token invalid")
        if claims["exp"] <= now:
            raise Unauthorized("legacy token expired")
        if claims["iat"] > now + _CLOCK_SKEW_S:
            raise Unauthorized("legacy token issued in the future")
        return Principal(
            tenant_id=str(claims["tid"]),
            username=str(claims["sub"]),
            environment=str(claims["env"]),
            products=frozenset(str(item) for item in claims["prd"]),
            expires_at=int(claims["exp"]),
        )
