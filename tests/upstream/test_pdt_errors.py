"""How every way PDT can fail becomes exactly one proxy error, with nothing from the body in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from proxy.errors import (
    NotFound,
    ProxyError,
    UpstreamError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from proxy.upstream import MAX_BODY_BYTES, PdtClient
from tests.upstream.support import TX, a_call

SECRET = "SECRET-BODY-12345678909"
JSON_WITH_SECRET = {"message": SECRET}


class EndlessBody(httpx.AsyncByteStream):
    """A body far larger than the cap, counting how much of it was pulled."""

    chunk = b" " * 65536

    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(10 * MAX_BODY_BYTES // len(self.chunk)):
            self.pulled += len(self.chunk)
            yield self.chunk


class Raw(httpx.AsyncByteStream):
    """Bytes as they come off the wire: httpx decodes them only when the client reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


# (what PDT does, the error, the upstream status it carries if any)
FAILURES: list[Any] = [
    pytest.param(httpx.ConnectError("refused"), UpstreamUnavailable, None, id="connect-error"),
    pytest.param(httpx.ReadError("reset by peer"), UpstreamUnavailable, None, id="connection-reset"),
    pytest.param(
        httpx.RemoteProtocolError("bad status line"), UpstreamUnavailable, None, id="protocol-error"
    ),
    pytest.param(httpx.ConnectTimeout("connect"), UpstreamTimeout, None, id="connect-timeout"),
    pytest.param(httpx.ReadTimeout("read"), UpstreamTimeout, None, id="read-timeout"),
    pytest.param(httpx.PoolTimeout("pool"), UpstreamTimeout, None, id="pool-timeout"),
    pytest.param(httpx.Response(500, json=JSON_WITH_SECRET), UpstreamUnavailable, None, id="500"),
    pytest.param(httpx.Response(502, text=SECRET), UpstreamUnavailable, None, id="502"),
    pytest.param(httpx.Response(503, json=JSON_WITH_SECRET), UpstreamUnavailable, None, id="503"),
    pytest.param(httpx.Response(504, text=SECRET), UpstreamUnavailable, None, id="504"),
    pytest.param(httpx.Response(429, json=JSON_WITH_SECRET), UpstreamUnavailable, None, id="429"),
    pytest.param(
        httpx.Response(400, json={"errors": {"document": [SECRET]}}), UpstreamRejected, 400, id="400"
    ),
    pytest.param(httpx.Response(403, json=JSON_WITH_SECRET), UpstreamRejected, 403, id="403"),
    pytest.param(httpx.Response(422, json=JSON_WITH_SECRET), UpstreamRejected, 422, id="422"),
    pytest.param(
        httpx.Response(302, headers={"location": "https://elsewhere.test/"}),
        UpstreamMalformed,
        None,
        id="redirect",
    ),
    pytest.param(httpx.Response(204), UpstreamMalformed, None, id="no-content"),
    pytest.param(httpx.Response(201, text=f"<html>{SECRET}</html>"), UpstreamMalformed, None, id="not-json"),
    pytest.param(
        httpx.Response(201, content=b'{"id": "' + SECRET.encode()),
        UpstreamMalformed,
        None,
        id="truncated-json",
    ),
    pytest.param(httpx.Response(201, json=[SECRET]), UpstreamMalformed, None, id="array-for-object"),
    pytest.param(httpx.Response(201, json=SECRET), UpstreamMalformed, None, id="string-for-object"),
    pytest.param(
        httpx.Response(201, stream=Raw(b"\x1f\x8b" + SECRET.encode()), headers={"content-encoding": "gzip"}),
        UpstreamMalformed,
        None,
        id="undecodable-gzip",
    ),
    pytest.param(
        httpx.Response(201, content=b"[" + b" " * MAX_BODY_BYTES + b"]"),
        UpstreamMalformed,
        None,
        id="over-the-cap",
    ),
]


@pytest.mark.parametrize(("pdt_does", "error", "status"), FAILURES)
async def test_each_failure_becomes_exactly_one_error_that_names_the_call_only(
    router: respx.Router, pdt: PdtClient, pdt_does: Any, error: type[UpstreamError], status: int | None
) -> None:
    router.post("/v1/transaction").mock(side_effect=pdt_does)
    with pytest.raises(ProxyError) as caught:
        await pdt.create_transaction(a_call(request_id="req-1"), {"document": "12345678909"})
    assert type(caught.value) is error
    assert (caught.value.call, caught.value.upstream) == ("transaction", "pdt")
    assert getattr(caught.value, "status", None) == status
    message = str(caught.value)
    assert 'call="transaction"' in message
    for leaked in (SECRET, "12345678909", "tok-1", "pw-Secret-77", "pdt.test", "/v1/"):
        assert leaked not in message
    # Nothing foreign rides along in the chain, where a URL or a body could hide.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


@pytest.mark.parametrize(
    ("status", "error"),
    [pytest.param(404, NotFound, id="id-based-call"), pytest.param(410, UpstreamRejected, id="other-4xx")],
)
async def test_a_404_on_a_transaction_id_is_not_found(
    router: respx.Router, pdt: PdtClient, status: int, error: type[ProxyError]
) -> None:
    router.get(f"/v1/transaction/{TX}/all").mock(return_value=httpx.Response(status, json=JSON_WITH_SECRET))
    with pytest.raises(error) as caught:
        await pdt.get_all(a_call(), TX)
    assert SECRET not in str(caught.value)
    assert TX not in str(caught.value)


async def test_a_404_on_a_call_without_an_id_is_a_rejection(router: respx.Router, pdt: PdtClient) -> None:
    router.post("/v1/packs/onboarding").mock(return_value=httpx.Response(404))
    with pytest.raises(UpstreamRejected) as caught:
        await pdt.create_pack(a_call(), "onboarding", {})
    assert (caught.value.status, caught.value.call) == (404, "pack")


async def test_an_oversized_body_is_refused_without_reading_it_all(
    router: respx.Router, pdt: PdtClient
) -> None:
    body = EndlessBody()
    router.post("/v1/transaction").mock(return_value=httpx.Response(201, stream=body))
    with pytest.raises(UpstreamMalformed, match="over"):
        await pdt.create_transaction(a_call(), {})
    assert MAX_BODY_BYTES < body.pulled <= MAX_BODY_BYTES + len(body.chunk)


async def test_a_body_at_the_cap_is_accepted(router: respx.Router, pdt: PdtClient) -> None:
    padded = b"{" + b" " * (MAX_BODY_BYTES - 2) + b"}"
    router.post("/v1/transaction").mock(return_value=httpx.Response(201, content=padded))
    assert await pdt.create_transaction(a_call(), {}) == {}
