"""Every production transport answers alike: the simulators in process and the same app
behind a real socket (aiohttp, uvicorn on loopback) give the clients identical answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.config import PoolSettings
from proxy.upstream._aiohttp import pooled_transport
from proxy.upstream.in_process import InProcessTransport
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport
from tests.support.loopback import served

LIMITS = SendLimits(connect_s=2.0, read_s=2.0, pool_s=2.0, write_s=2.0, max_body_bytes=1000)


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "method": request.method,
            "query": request.url.query,
            "body": (await request.body()).decode(),
            "authorization": request.headers.get("authorization"),
            "type": request.headers.get("content-type"),
        },
        status_code=201,
    )


async def _busy(request: Request) -> Response:
    return Response(b"slow down", status_code=429, headers={"Retry-After": "12"}, media_type="text/plain")


async def _huge(request: Request) -> Response:
    return Response(b"x" * 5000, media_type="application/octet-stream")


async def _empty(request: Request) -> Response:
    return Response(status_code=204)


APP = Starlette(
    routes=[
        Route("/echo", _echo, methods=["GET", "POST"]),
        Route("/busy", _busy),
        Route("/huge", _huge),
        Route("/empty", _empty),
    ]
)

CASES = [
    pytest.param("POST", "/echo?a=1&b=%C3%A9", b'{"x":1}', id="post-with-query-and-body"),
    pytest.param("GET", "/echo", None, id="get-without-body"),
    pytest.param("GET", "/busy", None, id="429-retry-after"),
    pytest.param("GET", "/huge", None, id="over-the-limit"),
    pytest.param("GET", "/empty", None, id="204"),
    pytest.param("GET", "/missing", None, id="404"),
]


@pytest.fixture
async def both() -> AsyncIterator[tuple[tuple[UpstreamTransport, str], tuple[UpstreamTransport, str]]]:
    network = pooled_transport(PoolSettings())
    async with served(APP) as base_url:
        try:
            yield (InProcessTransport(APP), "http://app.internal"), (network, base_url)
        finally:
            await network.aclose()


@pytest.mark.parametrize(("method", "path", "body"), CASES)
async def test_in_process_and_socket_answers_are_identical(
    both: tuple[tuple[UpstreamTransport, str], tuple[UpstreamTransport, str]],
    method: str,
    path: str,
    body: bytes | None,
) -> None:
    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
    answers: list[UpstreamAnswer] = []
    for transport, base_url in both:
        answers.append(await transport.send(method, f"{base_url}{path}", headers, body, LIMITS))
    in_process, network = answers
    assert in_process == network
    assert len(network.body) <= LIMITS.max_body_bytes + 1
