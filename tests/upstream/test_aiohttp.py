"""The pooled aiohttp path over real sockets on 127.0.0.1: reuse, isolation, closing, failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from proxy.config import PdtEnvironment, PdtSettings, TimeoutSettings
from proxy.errors import ProxyError, UpstreamMalformed, UpstreamTimeout, UpstreamUnavailable
from proxy.upstream import PdtClient, build_transport
from proxy.upstream.seam import SendLimits
from tests.upstream.support import TX, a_call
from tests.upstream.wire import Seen, WireServer, reply

LIMITS = SendLimits(connect_s=2.0, read_s=2.0, pool_s=2.0, write_s=2.0, max_body_bytes=1024)
TOKEN = reply(200, {"token": "wire-token", "expiresInSeconds": 7200})


def settings_over(base_url: str, *, read_s: float = 5.0) -> PdtSettings:
    return PdtSettings(
        environments={"prd": PdtEnvironment(base_url=base_url)}, timeouts=TimeoutSettings(read_s=read_s)
    )


@asynccontextmanager
async def pdt_over(base_url: str, *, read_s: float = 5.0) -> AsyncIterator[PdtClient]:
    settings = settings_over(base_url, read_s=read_s)
    transport = build_transport(settings)
    client = PdtClient(transport, settings)
    try:
        yield client
    finally:
        await client.aclose()
        await transport.aclose()


async def healthy_pdt(seen: Seen) -> bytes:
    if seen.path == "/v1/authentication":
        return TOKEN
    if seen.path == "/v1/transaction":
        return reply(201, {"id": TX})
    return reply(201, [{"module": seen.path.rsplit("/", 1)[1]}])


async def test_calls_travel_over_one_kept_alive_connection() -> None:
    async with WireServer(healthy_pdt) as server, pdt_over(server.base_url) as pdt:
        for _ in range(3):
            assert await pdt.create_transaction(a_call(request_id="req-7"), {"document": "1"}) == {"id": TX}
        modules = await pdt.request_modules(a_call(request_id="req-7"), TX, ["scores", "ratings", "insights"])
    assert modules == {name: [{"module": name}] for name in ("scores", "ratings", "insights")}
    authentication, *calls = server.seen
    assert authentication.path == "/v1/authentication"
    assert {(c.headers["authorization"], c.headers["x-request-id"]) for c in calls} == {
        ("Bearer wire-token", "req-7")
    }
    assert {c.connection for c in calls[:3]} == {authentication.connection}


async def test_closing_the_transport_closes_its_connections() -> None:
    async with WireServer(healthy_pdt) as server:
        transport = build_transport(settings_over(server.base_url))
        await transport.send("POST", f"{server.base_url}/v1/authentication", {}, None, LIMITS)
        assert server.closed == []
        await transport.aclose()
        await server.connection_closed.wait()
    assert server.closed == [1]


async def test_the_shared_session_keeps_no_cookies_between_requests() -> None:
    async def sets_a_cookie(seen: Seen) -> bytes:
        return reply(200, {}, headers={"Set-Cookie": "affinity=tenant-a; Path=/"})

    async with WireServer(sets_a_cookie) as server:
        transport = build_transport(settings_over(server.base_url))
        try:
            for _ in range(2):
                await transport.send("GET", f"{server.base_url}/v1/x", {}, None, LIMITS)
        finally:
            await transport.aclose()
    assert [seen.headers.get("cookie") for seen in server.seen] == [None, None]


def misbehaving(answer: bytes | None) -> WireServer:
    async def handler(seen: Seen) -> bytes | None:
        return TOKEN if seen.path == "/v1/authentication" else answer

    return WireServer(handler)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(None, UpstreamUnavailable, id="hangs-up"),
        pytest.param(b"HTTP/1.1 banana\r\n\r\n", UpstreamUnavailable, id="not-http"),
        pytest.param(
            b'HTTP/1.1 201 X\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{"id":', UpstreamUnavailable,
            id="body-cut-short",
        ),
        pytest.param(reply(503, {"message": "down"}), UpstreamUnavailable, id="503"),
        pytest.param(
            b"HTTP/1.1 201 X\r\nContent-Type: application/json\r\nContent-Length: 1200000\r\n\r\n"
            + b"[" + b"1," * 599_999 + b"1]",
            UpstreamMalformed,
            id="declared-over-the-cap",
        ),
        pytest.param(
            b"HTTP/1.1 201 X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(20)) + b"0\r\n\r\n",
            UpstreamMalformed,
            id="chunked-over-the-cap",
        ),
        pytest.param(reply(201, []), UpstreamMalformed, id="wrong-json-type"),
    ],
)  # fmt: skip
async def test_a_misbehaving_host_is_an_upstream_error(answer: bytes | None, error: type[ProxyError]) -> None:
    async with misbehaving(answer) as server, pdt_over(server.base_url) as pdt:
        with pytest.raises(error):
            await pdt.create_transaction(a_call(), {})


async def test_a_silent_host_times_out() -> None:
    stop = asyncio.Event()

    async def silent(seen: Seen) -> bytes | None:
        if seen.path == "/v1/authentication":
            return TOKEN
        await stop.wait()
        return None

    async with WireServer(silent) as server:
        try:
            async with pdt_over(server.base_url, read_s=0.2) as pdt:
                with pytest.raises(UpstreamTimeout):
                    await pdt.create_transaction(a_call(), {})
        finally:
            stop.set()


async def test_an_error_answer_leaves_the_pool_usable() -> None:
    answers = iter([reply(503, {"message": "x" * 5000}), reply(201, {"id": TX})])

    async def flaky(seen: Seen) -> bytes:
        return TOKEN if seen.path == "/v1/authentication" else next(answers)

    async with WireServer(flaky) as server, pdt_over(server.base_url) as pdt:
        with pytest.raises(UpstreamUnavailable):
            await pdt.create_transaction(a_call(), {})
        assert await pdt.create_transaction(a_call(), {}) == {"id": TX}


async def test_a_refused_connection_is_unavailable_not_a_timeout() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    # Nothing listens on the port any more.
    async with pdt_over(f"http://127.0.0.1:{port}") as pdt:
        with pytest.raises(UpstreamUnavailable) as caught:
            await pdt.create_transaction(a_call(), {})
    assert caught.value.call == "authentication"


async def test_a_read_told_to_retry_after_0_is_repeated_over_the_socket() -> None:
    answers = iter([reply(429, {}, headers={"Retry-After": "0"}), reply(200, {"transactionId": TX})])

    async def limited(seen: Seen) -> bytes:
        return TOKEN if seen.path == "/v1/authentication" else next(answers)

    async with WireServer(limited) as server, pdt_over(server.base_url) as pdt:
        assert await pdt.get_all(a_call(), TX) == {"transactionId": TX}
        assert [seen.path for seen in server.seen].count(f"/v1/transaction/{TX}/all") == 2
