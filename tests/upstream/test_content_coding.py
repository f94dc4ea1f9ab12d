"""An upstream that compresses when asked (nginx with ``gzip on``, most CDNs): the proxy
reads and passes on answer bytes undecoded, so it must ask for none, over real sockets.

The production transport used to let aiohttp offer ``gzip, deflate`` while reading
with decompression off: PDT's JSON arrived compressed (a 502 for every request) and a
legacy answer reached the client compressed, with nothing saying so. The httpx path
the tests took decoded it, so the suite never saw it.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import pytest

from proxy.config import LegacyEnvironment, LegacySettings, PdtEnvironment, PdtSettings, TimeoutSettings
from proxy.upstream import PdtClient, build_transport
from proxy.upstream.legacy import LegacyClient
from proxy.upstream.seam import UpstreamTransport
from tests.upstream.support import TX, a_call
from tests.upstream.test_legacy import NOW
from tests.upstream.test_legacy import a_call as a_legacy_call
from tests.upstream.wire import Seen, WireServer

ANSWER = {"id": TX, "padding": "x" * 400}


def negotiated(status: int, body: object, seen: Seen) -> bytes:
    """``body`` as JSON, gzip-compressed when the request accepts gzip (an unspecified or
    wildcard preference included, as RFC 9110 allows)."""
    content = orjson.dumps(body)
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json"]
    accepted = seen.headers.get("accept-encoding", "*")
    if "gzip" in accepted or "*" in accepted:
        content = gzip.compress(content)
        lines.append("Content-Encoding: gzip")
    lines.append(f"Content-Length: {len(content)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + content


async def compressing(seen: Seen) -> bytes:
    if seen.path.endswith("/authentication"):
        return negotiated(200, {"token": "wire-token", "expiresInSeconds": 3600}, seen)
    return negotiated(201, ANSWER, seen)


@asynccontextmanager
async def production_transport(base_url: str) -> AsyncIterator[tuple[UpstreamTransport, PdtSettings]]:
    settings = PdtSettings(
        environments={"prd": PdtEnvironment(base_url=base_url)}, timeouts=TimeoutSettings(read_s=5.0)
    )
    transport = build_transport(
        settings, legacy=LegacySettings(environments={"prd": LegacyEnvironment(base_url=base_url)})
    )
    try:
        yield transport, settings
    finally:
        await transport.aclose()


async def test_a_pdt_answer_is_never_asked_compressed() -> None:
    async with (
        WireServer(compressing) as server,
        production_transport(server.base_url) as (transport, settings),
    ):
        pdt = PdtClient(transport, settings)
        try:
            assert await pdt.create_transaction(a_call(), {}) == ANSWER
        finally:
            await pdt.aclose()
    assert {seen.headers.get("accept-encoding") for seen in server.seen} == {"identity"}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_legacy_answer_reaches_the_client_as_the_backend_meant_it(method: str) -> None:
    async with WireServer(compressing) as server, production_transport(server.base_url) as (transport, _):
        legacy = LegacyClient(
            transport, {"prd": server.base_url}, TimeoutSettings(read_s=5.0), wall_clock=lambda: NOW
        )
        try:
            answer = await legacy.forward(a_legacy_call(), method, "/products/v1/datatrust", body=b"{}")
        finally:
            await legacy.aclose()
    # The client is told nothing about an encoding: the bytes must be the JSON itself.
    assert (answer.status, answer.content_type) == (201, "application/json")
    assert orjson.loads(answer.body) == ANSWER
    assert {seen.headers.get("accept-encoding") for seen in server.seen} == {"identity"}
