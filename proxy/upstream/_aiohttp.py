"""The network half of the PDT transport: one pooled aiohttp session behind httpx's API.

httpx-aiohttp 0.2.0 reports every aiohttp connection failure (refused, reset,
server disconnected) as ``httpx.ConnectTimeout`` and lets HTTP protocol errors
escape as raw aiohttp exceptions. The proxy answers a timeout and an outage
differently, so each aiohttp exception is re-classified here from its own type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from proxy.config import PoolSettings

__all__ = ["pooled_transport"]


def pooled_transport(pool: PoolSettings) -> httpx.AsyncBaseTransport:
    """An httpx transport over one aiohttp session, opened lazily inside the event loop."""
    # Built once and handed to AiohttpTransport too, which would otherwise load the
    # CA bundle a second time for a context it never uses.
    ssl_context = httpx.create_ssl_context(trust_env=False)

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

    return _ReclassifiedErrors(AiohttpTransport(client=open_session, verify=ssl_context, trust_env=False))


class _ReclassifiedErrors(httpx.AsyncBaseTransport):
    def __init__(self, inner: AiohttpTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with _reclassified(request):
            response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _ReclassifiedStream(response.stream, request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ReclassifiedStream(httpx.AsyncByteStream):
    """The body arrives after the status line; its failures need the same treatment."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _reclassified(self._request):
            async for chunk in self._inner:
                yield chunk

    async def aclose(self) -> None:
        with _reclassified(self._request):
            await self._inner.aclose()


@contextmanager
def _reclassified(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        better = _reclassify(exc, request)
        if better is None:
            raise
        raise better from exc


def _reclassify(exc: Exception, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception that says what aiohttp actually met; None when aiohttp met nothing.

    The message is the aiohttp class name only: aiohttp messages can carry the URL.
    """
    origin = exc.__cause__ if isinstance(exc, httpx.TransportError) else exc
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
