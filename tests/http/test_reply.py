"""A reply on the wire: its headers, a content length where HTTP has one, the body."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest

from proxy.http.reply import Reply, json_reply


@pytest.mark.parametrize(
    ("status", "length"),
    [(200, b"2"), (400, b"2"), (503, b"2"), (204, None), (304, None)],
)
async def test_a_reply_is_sent_as_two_messages(status: int, length: bytes | None) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await json_reply(status, b"{}", request_id="req-1", content_type="application/json").send(send)
    start, body = sent
    headers = dict(start["headers"])
    assert start["status"] == status
    assert headers[b"x-request-id"] == b"req-1"
    assert headers[b"content-type"] == b"application/json"
    assert headers.get(b"content-length") == length
    assert body == {"type": "http.response.body", "body": b"{}"}


def test_without_a_request_id_there_is_no_header() -> None:
    reply = json_reply(404, b"{}", request_id=None, content_type="application/json")
    assert reply == Reply(status=404, body=b"{}", headers=((b"content-type", b"application/json"),))
