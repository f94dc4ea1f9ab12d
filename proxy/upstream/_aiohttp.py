"""The production upstream transport: one pooled aiohttp session on real sockets.

aiohttp's own exceptions say what happened (refused, TLS, reset, protocol error,
timeout); each is translated here into the proxy's transport failure that means the
same (``proxy.upstream.failures``). The proxy answers a timeout and an outage
differently, and repeats only what never left, so the distinction matters.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping

import aiohttp
import httpx

from proxy.config import PoolSettings, TlsSettings
from proxy.errors import ConfigError
from proxy.upstream.failures import (
    ConnectFailed,
    ConnectionLost,
    ConnectTimedOut,
    ProtocolFailed,
    ReadTimedOut,
    TlsFailed,
    TransportFailure,
)
from proxy.upstream.seam import SendLimits, UpstreamAnswer

__all__ = ["AiohttpTransport", "pooled_transport", "reclassify", "ssl_context"]

# The answer's bytes are passed on or parsed as they arrive: asking for an encoding
# would hand a compressed body to a parser (or, for a legacy answer, to a client
# that was never told it is compressed). aiohttp would otherwise offer gzip.
_IDENTITY = {"Accept-Encoding": "identity"}


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


def pooled_transport(pool: PoolSettings, *, context: ssl.SSLContext | None = None) -> AiohttpTransport:
    """The transport over one aiohttp session, opened lazily inside the event loop."""
    tls = context or httpx.create_ssl_context(trust_env=False)

    def open_session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            # aiohttp keeps every released connection alive up to ``limit``: the
            # keep-alive cap equals the connection cap by construction.
            limit=pool.max_connections,
            limit_per_host=0,
            keepalive_timeout=pool.keepalive_expiry_s,
            ssl=tls,
        )
        # One session serves every tenant: a cookie PDT sets while answering one
        # tenant must never ride along on another tenant's request.
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False, headers=_IDENTITY
        )

    return AiohttpTransport(open_session)


class AiohttpTransport:
    """``UpstreamTransport`` over aiohttp, the answer read (bounded) before returning.

    No httpx Request or Response objects (measured: they were about 40 % of a PDT
    call's CPU). The body is read here, at most ``max_body_bytes + 1`` bytes of it, so
    the caller's size check still sees an oversized answer as oversized while this
    layer never buffers more than that.
    """

    def __init__(self, open_session: Callable[[], aiohttp.ClientSession]) -> None:
        self._open_session = open_session
        self._session: aiohttp.ClientSession | None = None
        # Clients reuse one ``SendLimits`` per settings block: the aiohttp timeout is
        # made once per distinct object rather than once per request.
        self._timeouts: dict[SendLimits, aiohttp.ClientTimeout] = {}

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limits: SendLimits,
    ) -> UpstreamAnswer:
        session = self._session
        if session is None:
            session = self._session = self._open_session()
        timeout = self._timeouts.get(limits)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                sock_connect=limits.connect_s, sock_read=limits.read_s, connect=limits.pool_s
            )
            self._timeouts[limits] = timeout
        # try/except in line rather than a @contextmanager: one generator less per call.
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                auto_decompress=False,
                timeout=timeout,
            ) as answer:
                read = await _read(answer, limits.max_body_bytes)
                answer_headers = answer.headers
                return UpstreamAnswer(
                    status=answer.status,
                    body=read,
                    content_type=answer_headers.get("Content-Type"),
                    retry_after=answer_headers.get("Retry-After"),
                )
        except aiohttp.ClientError as exc:
            raise reclassify(exc) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read(answer: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = answer.content_length
    if declared is not None and declared <= limit:
        # The common case: a declared length within the limit, read in one call
        # (the parser stops at Content-Length) instead of a chunk loop.
        return await answer.read()
    collected = bytearray()
    async for chunk in answer.content.iter_chunked(64 * 1024):
        collected += chunk
        if len(collected) > limit:
            # A chunk may overshoot: the seam promises at most one byte over the limit.
            del collected[limit + 1 :]
            break
    return bytes(collected)


def reclassify(exc: aiohttp.ClientError) -> TransportFailure:
    """The proxy's failure that says what aiohttp actually met.

    The message is the aiohttp class name only: aiohttp messages can carry the URL.
    Not chained: the cause's arguments can carry it too.
    """
    message = f"aiohttp {type(exc).__name__}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimedOut(message)
    if isinstance(exc, TimeoutError):
        return ReadTimedOut(message)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientConnectorSSLError):
        return TlsFailed(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectFailed(message)
    if isinstance(exc, aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return ProtocolFailed(message)
    # Resets, disconnects and anything aiohttp adds later: the connection failed.
    return ConnectionLost(message)
