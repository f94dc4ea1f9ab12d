"""The access line of a legacy request: who answered, how long upstream took, bytes, client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Scope

from proxy.config import Settings
from proxy.observability.access import client_address
from proxy.observability.logging import ACCESS_LOGGER
from tests.conftest import running_proxy

EXAMPLE = {
    "IdentifierId": "pedido-123",
    "DocumentType": "CPF",
    "Document": "123.456.789-09",
    "Name": "Maria da Silva",
    "Email": "maria@example.com",
}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"client": ("203.0.113.9", 51000)}, "203.0.113.9"),
        ({"client": ["2001:db8::1", 443]}, "2001:db8::1"),
        ({"client": None}, "-"),
        ({}, "-"),
        ({"client": ("", 0)}, "-"),
        # X-Forwarded-For is not read: any client can write it.
        ({"client": ("10.0.0.2", 1), "headers": [(b"x-forwarded-for", b"198.51.100.7")]}, "10.0.0.2"),
    ],
)
def test_the_client_is_the_peer_address(scope: Scope, expected: str) -> None:
    assert client_address(scope) == expected


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        record.msg
        for record in caplog.records
        if record.name == ACCESS_LOGGER and isinstance(record.msg, dict)
    ]


async def test_the_access_line_says_who_answered_and_the_sizes(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=ACCESS_LOGGER)
    async with running_proxy(settings) as client:
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        sent = httpx.Request("POST", "http://proxy.test/products/v1/datatrust", json=EXAMPLE).content
        answer = await client.post(
            "/products/v1/datatrust", content=sent, headers={**headers, "content-type": "application/json"}
        )
        refused = await client.post("/products/v1/datatrust", json=EXAMPLE)
    assert answer.status_code == 200, answer.text
    (line, refused_line) = _access_lines(caplog)
    assert line["path"] == "/products/v1/datatrust"
    assert line["tenant"] == "demo-dt"
    assert line["product"] == "datatrust-v1"
    assert line["stage"] == "pdt"
    assert line["side"] == "pdt"
    assert isinstance(line["upstream_ms"], float)
    assert 0 < line["upstream_ms"] <= line["duration_ms"]
    assert line["request_bytes"] == len(sent)
    assert line["response_bytes"] == len(answer.content)
    # httpx's in-process transport reports this peer.
    assert line["client"] == "127.0.0.1"
    assert line["operation"]
    # Refused before dispatch: no side, no upstream time, but still the sizes and the client.
    assert refused_line["status"] == refused.status_code >= 400
    assert (refused_line["stage"], refused_line["side"], refused_line["upstream_ms"]) == ("-", "-", None)
    assert refused_line["request_bytes"] == 0
    assert refused_line["response_bytes"] == len(refused.content)
