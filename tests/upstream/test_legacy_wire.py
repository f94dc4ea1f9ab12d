"""The legacy client over real sockets: answers pass through the production aiohttp
transport byte for byte, and a backend that misbehaves is an upstream error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from proxy.config import PoolSettings, TimeoutSettings
from proxy.errors import ProxyError, UpstreamMalformed, UpstreamUnavailable
from proxy.upstream._aiohttp import pooled_transport
from proxy.upstream._errors import MAX_BODY_BYTES
from proxy.upstream.legacy import LegacyAnswer, LegacyClient
from tests.upstream.test_legacy import NOW, PASS_THROUGH, a_call
from tests.upstream.wire import Answer, Seen, WireServer, reply

LOGIN = reply(200, {"token": "wire-legacy", "expiresInSeconds": 3600})
PATH = "/products/v1/datatrust"


def raw(status: int, content_type: str | None, body: bytes) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    if content_type:
        head.append(f"Content-Type: {content_type}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@asynccontextmanager
async def legacy_over(answer: Answer) -> AsyncIterator[tuple[WireServer, LegacyClient]]:
    async def serve(seen: Seen) -> bytes | None:
        return LOGIN if seen.path == "/products/v1/authentication" else await answer(seen)

    async with WireServer(serve) as server:
        transport = pooled_transport(PoolSettings())
        legacy = LegacyClient(
            transport, {"prd": server.base_url}, TimeoutSettings(read_s=5.0), wall_clock=lambda: NOW
        )
        try:
            yield server, legacy
        finally:
            await legacy.aclose()
            await transport.aclose()


@pytest.mark.parametrize(("status", "content_type", "body"), PASS_THROUGH)
async def test_answers_pass_through_the_socket_byte_for_byte(
    status: int, content_type: str | None, body: bytes
) -> None:
    async def answer(seen: Seen) -> bytes:
        return raw(status, content_type, body)

    sent = b'{"Document":"123.456.789-09", "name" :"x"}'
    async with legacy_over(answer) as (server, legacy):
        got = await legacy.forward(a_call(), "POST", PATH, body=sent, content_type="application/json")
    assert got == LegacyAnswer(status, content_type, body)
    forwarded = server.seen[-1]
    assert (forwarded.method, forwarded.path, forwarded.body) == ("POST", PATH, sent)
    assert forwarded.headers["authorization"] == "Bearer wire-legacy"
    assert forwarded.headers["content-type"] == "application/json"
    assert forwarded.headers["x-request-id"] == "req-1"


async def test_a_refused_token_is_renewed_once_over_the_socket() -> None:
    answers = iter([raw(401, None, b""), raw(200, "application/json", b'{"ok":1}')])

    async def answer(seen: Seen) -> bytes:
        return next(answers)

    async with legacy_over(answer) as (server, legacy):
        got = await legacy.forward(a_call(), "GET", "/products/v1/transaction/abc")
    assert got.status == 200
    assert [seen.path for seen in server.seen].count("/products/v1/authentication") == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param(None, UpstreamUnavailable, id="hangs-up"),
        pytest.param(b"HTTP/1.1 banana\r\n\r\n", UpstreamUnavailable, id="not-http"),
        pytest.param(
            raw(200, "application/json", b"[" + b"1," * (MAX_BODY_BYTES // 2) + b"1]"),
            UpstreamMalformed,
            id="over-the-cap",
        ),
    ],
)
async def test_a_misbehaving_backend_is_an_upstream_error(
    answer: bytes | None, error: type[ProxyError]
) -> None:
    async def misbehave(seen: Seen) -> bytes | None:
        return answer

    async with legacy_over(misbehave) as (_, legacy):
        with pytest.raises(error):
            await legacy.forward(a_call(), "POST", PATH, body=b"{}")
