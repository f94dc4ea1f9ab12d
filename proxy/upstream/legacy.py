"""The legacy backends: a legacy request forwarded byte for byte, under the tenant's own login.

Legacy clients always authenticate against the proxy; the proxy never hands out a
legacy backend's token. To reach the backend it logs in with the tenant's legacy
credentials (kept as secrets, like the PDT ones) the way each product family did —
the authentication path, field names and expiry style come from that product's
``product.yaml`` — and caches the token per credential exactly as the PDT client
does: reused until shortly before expiry, one login in flight per credential,
one new login and one retry on a 401.

Everything else passes through untouched: the method, the path (with its PRD or HML
prefix), the query, the body bytes and content type; the answer's status, content
type and body bytes, errors included. Only a failure to get an answer at all
becomes a proxy error (the legacy family's 503/504).

Each backend host has its breaker and retry budget (``proxy.upstream.resilience``):
logins and GETs are repeated after a transient failure, POSTs only when the
connection failed before they were sent. A 5xx the backend answered is returned
as it came and counts against its host; the dispatcher answers the client the
family's 503/504 for it (``proxy.stages.dispatch``), never the backend's page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson

from proxy.config import Environment, ResilienceSettings, TimeoutSettings
from proxy.deadline import Deadline
from proxy.errors import (
    ConfigError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from proxy.mapping.spec import AuthenticationSpec
from proxy.upstream._errors import MAX_BODY_BYTES, check_size, parse_json, translated
from proxy.upstream.httpx_adapter import as_upstream
from proxy.upstream.resilience import Reply, Resilience, UpstreamTarget
from proxy.upstream.seam import SendLimits, UpstreamTransport
from proxy.upstream.tokens import IssuedToken, TokenCache

__all__ = ["LegacyAnswer", "LegacyCall", "LegacyClient", "LegacyCredential", "LegacyLogin"]

_UPSTREAM = "legacy"
# Headers a legacy answer keeps on its way back; hop-by-hop and cookies stay behind.
_ANSWER_HEADERS = ("content-type",)


@dataclass(frozen=True, slots=True)
class LegacyLogin:
    """How one product family logs in, read from its ``product.yaml``."""

    path: str  # with the environment's prefix: /products/v1/authentication
    spec: AuthenticationSpec = field(repr=False)


@dataclass(frozen=True, slots=True)
class LegacyCredential:
    """A tenant's legacy account for one login endpoint; also the token cache key.

    The product is part of the key: products sharing a login path (FFR and Mobile
    Trust) may live on different hosts (``legacy.products``), each with its tokens.
    """

    environment: Environment
    login_path: str
    username: str
    password: str = field(repr=False)
    product: str | None = None


@dataclass(frozen=True, slots=True)
class LegacyCall:
    credential: LegacyCredential
    login: LegacyLogin
    deadline: Deadline
    request_id: str | None = None
    # The product called: a product may have its own backend host (legacy.products).
    product: str | None = None


@dataclass(frozen=True, slots=True)
class LegacyAnswer:
    """The backend's answer as it came: what a ``legacy`` stage sends on unchanged."""

    status: int
    content_type: str | None
    body: bytes


class LegacyClient:
    """The legacy backends over a transport the caller owns (the same routing transport as PDT's).

    Every request goes through ``UpstreamTransport.send``; an httpx transport (a unit
    test's fake, the replay tool's target) is adapted to it.
    """

    def __init__(
        self,
        transport: UpstreamTransport | httpx.AsyncBaseTransport,
        base_urls: Mapping[Environment, str],
        timeouts: TimeoutSettings,
        *,
        product_base_urls: Mapping[tuple[str, Environment], str] | None = None,
        token_refresh_margin_s: float = 60.0,
        resilience: Resilience | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._transport = as_upstream(transport)
        self._resilience = resilience or Resilience(ResilienceSettings())
        self._clock = clock
        self._base_urls = {environment: url.rstrip("/") for environment, url in base_urls.items()}
        self._product_base_urls = {key: url.rstrip("/") for key, url in (product_base_urls or {}).items()}
        self._limits = SendLimits(
            connect_s=timeouts.connect_s,
            read_s=timeouts.read_s,
            pool_s=timeouts.pool_s,
            write_s=timeouts.write_s,
            max_body_bytes=MAX_BODY_BYTES,
        )
        self._call_timeout_s = timeouts.read_s
        self._wall_clock = wall_clock
        self._logins: dict[LegacyCredential, LegacyLogin] = {}
        self._hosts: dict[str, UpstreamTarget] = {}
        self._tokens: TokenCache[LegacyCredential] = TokenCache(
            self._authenticate, refresh_margin_s=token_refresh_margin_s, clock=clock
        )

    async def forward(
        self,
        call: LegacyCall,
        method: str,
        path: str,
        *,
        query: bytes = b"",
        body: bytes = b"",
        content_type: str | None = None,
    ) -> LegacyAnswer:
        """Send the legacy request as the client sent it; the answer as the backend gave it."""
        deadline = call.deadline
        remaining_s = deadline.remaining()
        if remaining_s <= 0:
            raise UpstreamTimeout(
                'legacy call="forward" not sent: the request deadline has passed', call="forward"
            )
        base, host = self._base(call.credential.environment, call.product)
        url = f"{base}{path}?{query.decode('latin-1')}" if query else f"{base}{path}"
        credential = call.credential
        self._logins.setdefault(credential, call.login)
        safe = method == "GET"
        with translated("forward", upstream=_UPSTREAM):
            async with asyncio.timeout(remaining_s):
                token = await self._tokens.get(credential)
                headers = _headers(token, content_type, call.request_id)
                answer = await self._send(host, "forward", method, url, headers, body, safe, deadline)
                if answer.status == 401:
                    # The backend refused the proxy's own token (expired early, revoked):
                    # nothing was done, so one retry with a fresh login is safe.
                    self._tokens.invalidate(credential, token)
                    token = await self._tokens.get(credential)
                    headers = _headers(token, content_type, call.request_id)
                    answer = await self._send(host, "forward", method, url, headers, body, safe, deadline)
        if answer.status == 401:
            # A fresh login refused too: the tenant's legacy credentials are wrong. That
            # is the proxy's configuration, not the client's fault.
            raise UpstreamRejected(
                'legacy call="forward" refused the tenant\'s credentials', status=401, call="forward"
            )
        return answer

    async def aclose(self) -> None:
        await self._tokens.aclose()

    def _base(self, environment: Environment, product: str | None) -> tuple[str, UpstreamTarget]:
        """The base URL a product's calls go to in ``environment``, and its host's guard."""
        base = self._product_base_urls.get((product, environment)) if product else None
        base = base or self._base_urls.get(environment)
        if base is None:
            raise ConfigError(f"no legacy backend configured for environment {environment!r}")
        # Cached per base URL: the guard's own lookup parses the URL.
        host = self._hosts.get(base)
        if host is None:
            host = self._resilience.target(_UPSTREAM, base)
            self._hosts[base] = host
        return base, host

    async def _send(
        self,
        host: UpstreamTarget,
        name: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        safe: bool,
        deadline: Deadline,
    ) -> LegacyAnswer:
        """The one place a request leaves the proxy for a legacy backend, through its host's guard."""
        content = body or None
        transport = self._transport
        limits = self._limits

        async def attempt() -> Reply:
            got = await transport.send(method, url, headers, content, limits)
            checked = check_size(got.body, name, MAX_BODY_BYTES, upstream=_UPSTREAM)
            return Reply(got.status, checked, got.content_type, got.retry_after)

        reply = await self._resilience.send(
            host,
            name,
            attempt,
            safe=safe,
            timeout_s=self._call_timeout_s,
            remaining=deadline.remaining,
        )
        return LegacyAnswer(reply.status, reply.content_type, reply.body)

    async def _authenticate(self, credential: LegacyCredential) -> IssuedToken:
        login = self._logins[credential]
        spec = login.spec
        payload = orjson.dumps({spec.username: credential.username, spec.password: credential.password})
        base, host = self._base(credential.environment, credential.product)
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        # Shared by every waiter on this credential: bounded by the call timeout alone.
        budget = Deadline(self._call_timeout_s, clock=self._clock)
        with translated("authentication", upstream=_UPSTREAM):
            async with asyncio.timeout(self._call_timeout_s):
                # A login changes nothing at the backend: repeated like a read.
                answer = await self._send(
                    host, "authentication", "POST", f"{base}{login.path}", headers, payload, True, budget
                )
        if answer.status in (400, 401, 403):
            raise UpstreamRejected(
                f'legacy call="authentication" answered {answer.status}',
                status=answer.status,
                call="authentication",
            )
        if answer.status != 200:
            raise UpstreamUnavailable(
                f'legacy call="authentication" answered {answer.status}', call="authentication"
            )
        return _issued(spec, parse_json("authentication", answer.body, dict), self._wall_clock())


def _headers(token: str, content_type: str | None, request_id: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    if request_id:
        headers["X-Request-Id"] = request_id
    return headers


def _issued(spec: AuthenticationSpec, answer: dict[str, Any], now: float) -> IssuedToken:
    """The token and its remaining lifetime, in whichever style the family answered."""
    token = answer.get(spec.response.token)
    expiry = answer.get(spec.response.expiry.field)
    lifetime: float | None = None
    if spec.response.expiry.style == "seconds":
        if isinstance(expiry, int | float) and not isinstance(expiry, bool):
            lifetime = float(expiry)
    elif isinstance(expiry, str):
        try:
            local = datetime.fromisoformat(expiry)
        except ValueError:
            local = None
        if local is not None:
            if local.tzinfo is None:
                local = local.replace(tzinfo=ZoneInfo(spec.response.expiry.timezone or "UTC"))
            lifetime = local.timestamp() - now
    if not isinstance(token, str) or not token or lifetime is None or lifetime <= 0:
        raise UpstreamMalformed(
            'legacy call="authentication" answered without a token or a future expiry', call="authentication"
        )
    return IssuedToken(token, lifetime)
