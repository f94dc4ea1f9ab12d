"""An httpx transport behind the upstream seam: for unit tests that fake PDT with respx,
and for callers handed an httpx transport (the replay tool's targets).

Production never sends through this: real hosts go through aiohttp and the built-in
simulators through the in-process transport. httpx's exceptions become the proxy's
transport failures here, so a fake raising ``httpx.ConnectError`` exercises the same
retry and error rules as a refused socket.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from proxy.upstream.failures import (
    ConnectFailed,
    ConnectionLost,
    ConnectTimedOut,
    PoolTimedOut,
    ProtocolFailed,
    ReadTimedOut,
    TransportFailure,
    UndecodableAnswer,
)
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport

__all__ = ["HttpxTransport", "as_upstream", "failure_of"]


class HttpxTransport:
    """``UpstreamTransport`` over any ``httpx.AsyncBaseTransport`` (respx, MockTransport)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limits: SendLimits,
    ) -> UpstreamAnswer:
        timeout = httpx.Timeout(
            connect=limits.connect_s, read=limits.read_s, write=limits.write_s, pool=limits.pool_s
        )
        request = httpx.Request(
            method, url, headers=headers, content=body, extensions={"timeout": timeout.as_dict()}
        )
        try:
            response = await self.transport.handle_async_request(request)
            try:
                collected = bytearray()
                async for chunk in response.aiter_bytes():
                    collected += chunk
                    if len(collected) > limits.max_body_bytes:
                        break
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise failure_of(exc) from None
        except httpx.DecodingError:
            raise UndecodableAnswer("httpx DecodingError") from None
        answer_headers = response.headers
        return UpstreamAnswer(
            status=response.status_code,
            # A chunk may overshoot: the seam promises at most one byte over the limit.
            body=bytes(collected[: limits.max_body_bytes + 1]),
            content_type=answer_headers.get("content-type"),
            retry_after=answer_headers.get("retry-after"),
        )

    async def aclose(self) -> None:
        await self.transport.aclose()


def failure_of(exc: httpx.TransportError) -> TransportFailure:
    """The proxy's failure for an httpx one, named by class only: httpx messages can carry the URL."""
    message = f"httpx {type(exc).__name__}"
    if isinstance(exc, httpx.ConnectTimeout):
        return ConnectTimedOut(message)
    if isinstance(exc, httpx.PoolTimeout):
        return PoolTimedOut(message)
    if isinstance(exc, httpx.TimeoutException):
        return ReadTimedOut(message)
    if isinstance(exc, httpx.ConnectError):
        return ConnectFailed(message)
    if isinstance(exc, httpx.ProtocolError | httpx.UnsupportedProtocol):
        return ProtocolFailed(message)
    return ConnectionLost(message)


def as_upstream(transport: UpstreamTransport | httpx.AsyncBaseTransport) -> UpstreamTransport:
    """``transport`` itself, or adapted when it is an httpx one."""
    if isinstance(transport, httpx.AsyncBaseTransport):
        return HttpxTransport(transport)
    return transport
