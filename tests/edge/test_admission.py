"""The in-flight bound: the excess gets the family's 503 at once, operations paths never do."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from proxy.edge.admission import AdmissionControl
from proxy.http.errors import ErrorFamilies
from proxy.mapping.catalog import load_catalog
from proxy.observability.metrics import Metrics

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "mappings")
FAMILIES = ErrorFamilies(CATALOG.products.values())


class Held:
    """An app that answers 200 only when released: requests pile up in flight."""

    def __init__(self, expected: int = 0) -> None:
        self.release = asyncio.Event()
        self.all_in = asyncio.Event()
        self.expected = expected
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        if self.entered >= self.expected:
            self.all_in.set()
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def call(app: AdmissionControl, path: str) -> tuple[int, dict[str, Any], dict[bytes, bytes]]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "method": "POST", "headers": []}, receive, send)
    start, body = sent
    return start["status"], orjson.loads(body["body"]), dict(start["headers"])


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(
            "/products/v1/datatrust",
            {"message": "The service is temporarily unavailable. Try again later."},
            id="datatrust-v1 PRD",
        ),
        pytest.param(
            "/api/products/v1/datatrust/x",
            {"message": "The service is temporarily unavailable. Try again later."},
            id="datatrust-v1 HML",
        ),
        pytest.param("/v1/fintech/fraud/score", {"Message": "An error has occurred."}, id="ffr"),
        pytest.param(
            "/api/v1/mobiletrust/transaction", {"Message": "An error has occurred."}, id="mobile HML"
        ),
    ],
)
async def test_the_excess_is_refused_in_the_family_shape(path: str, expected: dict[str, str]) -> None:
    held = Held(expected=2)
    metrics = Metrics()
    app = AdmissionControl(held, max_in_flight=2, families=FAMILIES, metrics=metrics)
    first = [asyncio.create_task(call(app, path)) for _ in range(2)]
    await held.all_in.wait()
    status, body, headers = await call(app, path)
    assert (status, body) == (503, expected)
    assert headers[b"retry-after"] == b"1"
    assert app.in_flight == 2
    held.release.set()
    assert [(await task)[0] for task in first] == [200, 200]
    assert app.in_flight == 0
    # Room again once the others are answered.
    assert (await call(app, path))[0] == 200
    assert 'pdt_proxy_requests_shed_total{product="-",reason="overloaded",tenant="-"} 1.0' in (
        metrics.render()[0].decode()
    )


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/admin/tenants", "/v1x/other"])
async def test_operations_and_unknown_paths_are_never_counted_or_refused(path: str) -> None:
    held = Held()
    held.release.set()
    app = AdmissionControl(held, max_in_flight=1, families=FAMILIES, metrics=Metrics())
    app.in_flight = 1  # saturated
    assert (await call(app, path))[0] == 200
    assert app.in_flight == 1


async def test_a_failing_request_still_frees_its_slot() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = AdmissionControl(broken, max_in_flight=1, families=FAMILIES, metrics=Metrics())
    with pytest.raises(RuntimeError):
        await call(app, "/v1/fintech/fraud/score")
    assert app.in_flight == 0
