"""The legacy tokens the proxy issues: signed, expiring, stateless.

A token is a JWT (HS256) naming the tenant, the legacy username, the environment
(PRD or HML prefix it was issued on) and the products that share the issuing
authentication endpoint. Any replica holding the shared key verifies it without
asking anyone, so ``serve --workers N`` and several pods need no shared session
store. Legacy clients reserve 2048 characters; these tokens stay far below.

The proxy never hands out a PDT or legacy-backend token: those stay inside.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import jwt

from proxy.errors import ConfigError, Unauthorized

__all__ = ["LegacyTokens", "Principal", "load_token_key"]

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


class LegacyTokens:
    def __init__(self, key: bytes, *, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 32:
            raise ConfigError("the legacy token key must be at least 32 bytes")
        self._key = key
        self.ttl_s = ttl_s
        self._clock = clock
        # Clients reuse a token until it expires, so the same few strings arrive
        # again and again: remember the verified claims instead of re-checking the
        # HMAC and re-decoding JSON each time. Expiry is still checked on every use.
        self._verified: dict[str, Principal] = {}

    def issue(
        self,
        *,
        tenant_id: str,
        username: str,
        environment: str,
        products: Iterable[str],
        ttl_s: int | None = None,
    ) -> tuple[str, int]:
        """A new token and its expiry (epoch seconds); ``ttl_s`` (default: the instance's)
        is the issuing family's lifetime."""
        now = int(self._clock())
        expires_at = now + (self.ttl_s if ttl_s is None else ttl_s)
        claims = {
            "iss": _ISSUER,
            "sub": username,
            "tid": tenant_id,
            "env": environment,
            "prd": sorted(products),
            "iat": now,
            "exp": expires_at,
        }
        token = jwt.encode(claims, self._key, algorithm=_ALGORITHM)
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
            claims = jwt.decode(
                token,
                self._key,
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


def load_token_key(configured: str | None, data_dir: Path) -> bytes:
    """The shared signing key: configuration/environment, else a key file made once.

    The key file lets several workers on one host share a key with zero setup; a
    deployment with several hosts must set ``PROXY_TOKEN_KEY`` on all of them.
    """
    if configured:
        return configured.encode()
    path = data_dir / "token.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: link is atomic and refuses to
        # overwrite, so workers starting together all end up reading one key.
        draft = path.with_name(f"token.key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(32).encode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_bytes().strip()
    if len(key) < 32:
        raise ConfigError(f"{path}: token key file is shorter than 32 bytes")
    return key
