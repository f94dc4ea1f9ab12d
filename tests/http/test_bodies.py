"""Reading a plain ASGI request's body: within the limit, or refused as soon as it is not."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import ClientDisconnect

from proxy.errors import PayloadTooLarge
from proxy.http.bodies import receive_body

LIMIT = 10


def _receiver(messages: list[dict[str, Any]]) -> Any:
    queue = list(messages)
    taken: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        message = queue.pop(0)
        taken.append(message)
        return message

    receive.taken = taken  # type: ignore[attr-defined]
    return receive


def _chunk(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


@pytest.mark.parametrize(
    ("declared", "messages", "expected"),
    [
        (None, [_chunk(b"", False)], b""),
        ("5", [_chunk(b"hello", False)], b"hello"),
        (None, [_chunk(b"he", True), _chunk(b"", True), _chunk(b"llo", False)], b"hello"),
        ("10", [_chunk(b"0123456789", False)], b"0123456789"),
        ("11", [_chunk(b"x", False)], PayloadTooLarge),  # refused on the header alone
        (
            None,
            [_chunk(b"012345", True), _chunk(b"6789A", True), _chunk(b"never read", False)],
            PayloadTooLarge,
        ),
        ("abc", [_chunk(b"ok", False)], b"ok"),  # a nonsense length is not trusted either way
        (None, [_chunk(b"he", True), {"type": "http.disconnect"}], ClientDisconnect),
    ],
    ids=["empty", "one-chunk", "chunks", "at-limit", "declared-over", "streamed-over", "bad-length", "gone"],
)
async def test_the_body_is_read_within_the_limit(
    declared: str | None, messages: list[dict[str, Any]], expected: bytes | type[Exception]
) -> None:
    receive = _receiver(messages)
    if isinstance(expected, bytes):
        assert await receive_body(receive, content_length=declared, limit=LIMIT) == expected
        return
    with pytest.raises(expected):
        await receive_body(receive, content_length=declared, limit=LIMIT)
    if expected is PayloadTooLarge:
        # Abandoned at once: nothing after the chunk that passed the limit is awaited.
        assert all(message["body"] != b"never read" for message in receive.taken)
