"""One SERVER span per legacy request, a CLIENT child per upstream attempt, nothing personal.

The proxy runs on its embedded defaults (demo tenants in ``pdt``, the built-in PDT
simulator) with the SDK's in-memory exporter installed, and is driven like a client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from proxy.composition import create_app
from proxy.config import Settings
from proxy.observability import tracing
from tests.conftest import running_proxy
from tests.tracing_support import attribute_text, personal_kinds, spans

__all__ = ["spans"]  # the fixture, re-exported so pytest finds it here

EXAMPLE = {
    "IdentifierId": "pedido-123",
    "DocumentType": "CPF",
    "Document": "123.456.789-09",
    "Name": "Maria da Silva",
    "BirthDate": "1990-05-17",
    "Email": "maria@example.com",
    "Phone": {"CountryCode": "55", "AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
    "SessionId": "cd161347af40806c",
}
PERSONAL = ("123.456.789-09", "12345678909", "Maria", "maria@example.com", "988056887", "demo-dt-secret")
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def _token(client: httpx.AsyncClient) -> str:
    answer = await client.post(
        "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _servers(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]


def _children(exporter: InMemorySpanExporter, parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    return [
        span
        for span in exporter.get_finished_spans()
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]


async def _analysis(settings: Settings) -> tuple[dict[str, Any], str]:
    async with running_proxy(settings) as client:
        headers = {"Authorization": f"Bearer {await _token(client)}", "X-Request-Id": "req-trace-1"}
        answer = await client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()
        read = await client.get(f"/products/v1/datatrust/{created['transactionId']}", headers=headers)
        assert read.status_code == 200, read.text
    return created, str(created["transactionId"])


async def test_a_legacy_request_is_one_server_span_with_its_attempts_as_children(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    await _analysis(settings)
    auth, create, read = _servers(spans)
    assert create.name.startswith("datatrust-v1 ")
    attributes = dict(create.attributes or {})
    assert attributes["pdt_proxy.product"] == "datatrust-v1"
    assert attributes["pdt_proxy.tenant"] == "demo-dt"
    assert attributes["pdt_proxy.stage"] == "pdt"
    assert attributes["pdt_proxy.side"] == "pdt"
    assert attributes["pdt_proxy.request_id"] == "req-trace-1"
    assert attributes["http.response.status_code"] == 200
    assert attributes["http.request.method"] == "POST"
    assert attributes["http.route"] == "/products/v1/datatrust"
    assert isinstance(attributes["pdt_proxy.upstream_ms"], float)
    attempts = _children(spans, create)
    assert attempts, "the PDT calls of the analysis are children of the request's span"
    for attempt in attempts:
        assert attempt.kind is SpanKind.CLIENT
        assert attempt.name == f"pdt {attempt.attributes['pdt_proxy.call']}"  # type: ignore[index]
        assert (attempt.attributes or {})["pdt_proxy.upstream"] == "pdt"
        assert (attempt.attributes or {})["pdt_proxy.attempt"] == 1
        assert str((attempt.attributes or {})["pdt_proxy.outcome"]).startswith("2")
        assert attempt.context is not None
        assert create.context is not None
        assert attempt.context.trace_id == create.context.trace_id
    # The authentication request has no upstream call and no tenant-side annotation.
    assert auth.name == "legacy request"
    assert _children(spans, auth) == []
    assert dict(read.attributes or {})["pdt_proxy.operation"] != attributes["pdt_proxy.operation"]


async def test_spans_hold_nothing_personal_and_no_transaction_id(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    _, transaction_id = await _analysis(settings)
    finished = spans.get_finished_spans()
    assert len(finished) >= 4
    for span in finished:
        text = attribute_text(span)
        assert personal_kinds(span) == [], span.name
        for value in (*PERSONAL, transaction_id):
            assert value not in text, (span.name, value)


async def test_the_caller_trace_is_continued(settings: Settings, spans: InMemorySpanExporter) -> None:
    async with running_proxy(settings) as client:
        answer = await client.post(
            "/products/v1/authentication",
            json={"Username": "demo-dt", "Password": "wrong"},
            headers={"traceparent": TRACEPARENT},
        )
    assert answer.status_code >= 400
    (server,) = _servers(spans)
    assert server.context is not None
    assert f"{server.context.trace_id:032x}" == TRACEPARENT.split("-")[1]
    assert server.parent is not None
    assert f"{server.parent.span_id:016x}" == TRACEPARENT.split("-")[2]
    assert dict(server.attributes or {})["http.response.status_code"] == answer.status_code


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
async def test_operations_endpoints_are_not_traced(
    settings: Settings, spans: InMemorySpanExporter, path: str
) -> None:
    async with running_proxy(settings) as client:
        viewer = {"Authorization": "Bearer demo-admin-token"}  # /metrics is a viewer's to read
        assert (await client.get(path, headers=viewer)).status_code == 200
    assert _servers(spans) == []


async def test_a_server_error_marks_the_span(settings: Settings, spans: InMemorySpanExporter) -> None:
    # The PDT hosts refuse every connection: the family's 503 (or 504), an ERROR span.
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with running_proxy(settings, transport=httpx.MockTransport(refuse)) as client:
        headers = {"Authorization": f"Bearer {await _token(client)}"}
        answer = await client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)
    assert answer.status_code >= 500
    server = _servers(spans)[-1]
    assert server.status.status_code is StatusCode.ERROR
    attempts = _children(spans, server)
    assert attempts
    assert {(a.attributes or {})["pdt_proxy.outcome"] for a in attempts} <= {
        "connect_error",
        "circuit_open",
    }


async def test_without_tracing_at_startup_no_request_is_traced(settings: Settings) -> None:
    # Tracing is read once, when the app is built: off then, a tracer installed later
    # sees nothing, because the request path does not pass through the layer at all.
    tracing.uninstall()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        app = create_app(settings)
        tracing.install(provider)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            answer = await client.get("/products/v1/no-such-route")
        assert answer.status_code == 404
        assert _servers(exporter) == []
    finally:
        tracing.uninstall()
        provider.shutdown()


async def test_a_request_refused_for_saturation_is_traced(
    settings: Settings, spans: InMemorySpanExporter
) -> None:
    # The span layer is outside admission control: the 503 of a full worker is traced too.
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def hold(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await release.wait()
        raise httpx.ConnectError("refused", request=request)

    saturated = settings.model_copy(
        update={"server": settings.server.model_copy(update={"max_in_flight": 1})}
    )
    async with running_proxy(saturated, transport=httpx.MockTransport(hold)) as client:
        headers = {"Authorization": f"Bearer {await _token(client)}"}
        first = asyncio.create_task(client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers))
        await arrived.wait()
        refused = await client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)
        release.set()
        await first
    assert refused.status_code == 503
    # Refused before any handler, the span keeps its generic name (as the login's does);
    # the answered operation's is named after it.
    unnamed = [span for span in _servers(spans) if span.name == "legacy request"]
    statuses = [str((span.attributes or {}).get("http.response.status_code")) for span in unnamed]
    assert sorted(statuses) == ["200", "503"]
