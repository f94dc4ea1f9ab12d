"""The network half of the PDT transport: one pooled aiohttp session behind httpx's API.

aiohttp's own exceptions say what happened (refused, reset, protocol error,
timeout); each is translated here into the httpx exception that means the same,
so the one error boundary of the PDT client sees httpx's error tree only. The
proxy answers a timeout and an outage differently, so the distinction matters.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
import httpx

from proxy.config import PoolSettings, TlsSettings
from proxy.errors import ConfigError

__all__ = ["AiohttpTransport", "DirectAnswer", "pooled_transport", "ssl_context"]


@dataclass(frozen=True, slots=True)
class DirectAnswer:
    """What ``AiohttpTransport.send`` returns: no httpx objects on the way."""

    status: int
    # At most ``max_body_bytes + 1`` bytes: the caller's size check still sees an
    # oversized answer as oversized.
    body: bytes
    retry_after: str | None
    content_type: str | None


def ssl_context(tls: TlsSettings, *, where: str) -> ssl.SSLContext:
    """The TLS context for hosts configured with ``tls``; ``where`` names the settings
    block in the error, so a missing or unreadable file stops startup saying which."""
    try:
        if tls.ca_bundle is None:
            # The public CAs (certifi), never the environment's SSL_CERT_* variables.
            context = httpx.create_ssl_context(trust_env=False)
        else:
            context = ssl.create_default_context(cafile=str(tls.ca_bundle))
        if tls.client_cert is not None:
            key = None if tls.client_key is None else str(tls.client_key)
            context.load_cert_chain(str(tls.client_cert), key)
    except (OSError, ssl.SSLError) as exc:
        # The class and the OS's reason only: never a key file's content.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{where}.tls: cannot load the CA bundle or client certificate: {reason}") from None
    return context


def pooled_transport(
    pool: PoolSettings, *, max_body_bytes: int, context: ssl.SSLContext | None = None
) -> httpx.AsyncBaseTransport:
    """An httpx transport over one aiohttp session, opened lazily inside the event loop."""
    ssl_context = context or httpx.create_ssl_context(trust_env=False)

    def open_session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            # aiohttp keeps every released connection alive up to ``limit``: the
            # keep-alive cap equals the connection cap by construction.
            limit=pool.max_connections,
            limit_per_host=0,
            keepalive_timeout=pool.keepalive_expiry_s,
            ssl=ssl_context,
        )
        # One session serves every tenant: a cookie PDT sets while answering one
        # tenant must never ride along on another tenant's request.
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    return AiohttpTransport(open_session, max_body_bytes=max_body_bytes)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over aiohttp, with the answer read before returning.

    Replaces httpx-aiohttp's transport (measured: its per-request timeout objects,
    response stream wrappers and exception mapping cost more CPU than the aiohttp
    call itself). The body is read here, at most ``max_body_bytes + 1`` bytes of it,
    so the caller's size check still sees an oversized answer as oversized while
    this layer never buffers more than that.
    """

    def __init__(self, open_session: Callable[[], aiohttp.ClientSession], *, max_body_bytes: int) -> None:
        self._open_session = open_session
        self._session: aiohttp.ClientSession | None = None
        self._max_body = max_body_bytes
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        limits = request.extensions.get("timeout", {})
        return self.client_timeout(limits.get("connect"), limits.get("read"), limits.get("pool"))

    def client_timeout(
        self, connect: float | None, read: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        """The aiohttp timeout for these limits, made once per distinct triple."""
        key = (connect, read, pool)
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)
            self._timeouts[key] = timeout
        return timeout

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        limits: tuple[float, float, float],
    ) -> DirectAnswer:
        """One exchange without httpx's Request and Response objects (measured: they are
        about 40 % of a PDT call's CPU). Same cap, same exception translation as
        ``handle_async_request``; the PDT and legacy clients use it for hosts this
        transport serves."""
        if self._session is None:
            self._session = self._open_session()
        try:
            async with self._session.request(
                method,
                url,
                data=content,
                headers=headers,
                allow_redirects=False,
                auto_decompress=False,
                timeout=self.client_timeout(*limits),
            ) as answer:
                body = await self._read(answer)
                headers = answer.headers
                return DirectAnswer(
                    answer.status, body, headers.get("Retry-After"), headers.get("Content-Type")
                )
        except aiohttp.ClientError as exc:
            better = _reclassify(exc, None)
            if better is None:
                raise
            raise better from exc

    async def _read(self, answer: aiohttp.ClientResponse) -> bytes:
        declared = answer.content_length
        if declared is not None and declared <= self._max_body:
            # The common case: a declared length within the limit, read in one
            # call (the parser stops at Content-Length) instead of a chunk loop.
            return await answer.read()
        collected = bytearray()
        async for chunk in answer.content.iter_chunked(64 * 1024):
            collected += chunk
            if len(collected) > self._max_body:
                break
        return bytes(collected)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open_session()
        # try/except in line rather than a @contextmanager: one generator less per call.
        try:
            async with self._session.request(
                request.method,
                str(request.url),
                data=request.content or None,
                # The same (lower-cased) names and values as dict(headers.items()), without
                # the dict: the request's headers are never repeated (built from dicts).
                headers=request.headers.multi_items(),
                allow_redirects=False,
                # httpx decodes content-encoding, exactly once, when the body is read.
                auto_decompress=False,
                timeout=self._timeout(request),
            ) as answer:
                body = await self._read(answer)
                # content=, not a stream: callers (and the fault-injection wrappers of the
                # tests) may read ``response.content`` right away.
                return httpx.Response(
                    answer.status, headers=answer.raw_headers, content=body, request=request
                )
        except aiohttp.ClientError as exc:
            better = _reclassify(exc, request)
            if better is None:
                raise
            raise better from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _reclassify(exc: Exception, request: httpx.Request | None) -> httpx.TransportError | None:
    """The httpx exception that says what aiohttp actually met; None when aiohttp met nothing.

    The message is the aiohttp class name only: aiohttp messages can carry the URL.
    """
    origin = exc
    if not isinstance(origin, aiohttp.ClientError):
        return None
    message = f"aiohttp {type(origin).__name__}"
    if isinstance(origin, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(origin, TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(origin, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(origin, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    # Resets, disconnects and anything aiohttp adds later: the connection failed.
    return httpx.ReadError(message, request=request)
