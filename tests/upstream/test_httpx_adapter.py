"""The httpx adapter behind the seam (what respx-faked unit tests send through): httpx's
failures become the proxy's, the answer is bounded, the limits reach httpx's request."""

from __future__ import annotations

import httpx
import pytest

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
from proxy.upstream.httpx_adapter import HttpxTransport, as_upstream
from proxy.upstream.seam import SendLimits

LIMITS = SendLimits(connect_s=1.0, read_s=2.0, pool_s=3.0, write_s=4.0, max_body_bytes=10)
URL = "https://pdt.test/v1/transaction?document=12345678909"


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectError("refused"), ConnectFailed),
        (httpx.ConnectTimeout("slow connect"), ConnectTimedOut),
        (httpx.PoolTimeout("no connection"), PoolTimedOut),
        (httpx.ReadTimeout("slow answer"), ReadTimedOut),
        (httpx.WriteTimeout("slow upload"), ReadTimedOut),
        (httpx.ReadError("reset"), ConnectionLost),
        (httpx.RemoteProtocolError("garbage"), ProtocolFailed),
    ],
)
async def test_httpx_failures_become_the_proxys(
    raised: httpx.TransportError, expected: type[Exception]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise raised

    transport = as_upstream(httpx.MockTransport(fail))
    with pytest.raises(TransportFailure) as caught:
        await transport.send("POST", URL, {}, b"{}", LIMITS)
    assert type(caught.value) is expected
    # The class only: the URL (and the document in it) never reaches a message.
    assert "12345678909" not in str(caught.value)


async def test_an_undecodable_answer_is_its_own_failure() -> None:
    # A stream, not content=: httpx would decode content= while building the response.
    answer = httpx.Response(200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))
    transport = HttpxTransport(httpx.MockTransport(lambda request: answer))
    with pytest.raises(UndecodableAnswer):
        await transport.send("GET", URL, {}, None, LIMITS)


async def test_the_request_carries_the_limits_and_the_answer_is_bounded() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            503, content=b"x" * 100, headers={"content-type": "text/plain", "retry-after": "7"}
        )

    got = await HttpxTransport(httpx.MockTransport(answer)).send(
        "POST", URL, {"Authorization": "Bearer t"}, b"{}", LIMITS
    )
    assert (got.status, got.content_type, got.retry_after) == (503, "text/plain", "7")
    assert len(got.body) == LIMITS.max_body_bytes + 1
    [request] = seen
    assert request.extensions["timeout"] == {"connect": 1.0, "read": 2.0, "write": 4.0, "pool": 3.0}
    assert (request.headers["authorization"], request.content) == ("Bearer t", b"{}")
