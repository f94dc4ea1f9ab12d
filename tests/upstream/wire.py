"""A tiny HTTP/1.1 server on 127.0.0.1 for the real-socket tests, able to misbehave on purpose."""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: int


# What to write back for a request; None hangs up without an answer. An answer that
# says "Connection: close" is followed by a hang-up, as HTTP/1.1 prescribes.
Answer = Callable[[Seen], Awaitable[bytes | None]]


def reply(status: int, body: Any, *, headers: dict[str, str] | None = None) -> bytes:
    content = orjson.dumps(body)
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", f"Content-Length: {len(content)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + content


class WireServer:
    """Serves keep-alive connections with ``answer``; records every request and every close."""

    def __init__(self, answer: Answer, *, tls: ssl.SSLContext | None = None) -> None:
        self._answer = answer
        self._tls = tls
        self._ids = itertools.count(1)
        self._handlers: set[asyncio.Task[Any]] = set()
        self.seen: list[Seen] = []
        self.closed: list[int] = []
        self.connection_closed = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        # Over TLS by name: test certificates are issued for "localhost".
        if self._tls is not None:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> WireServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        current = asyncio.current_task()
        assert current is not None
        self._handlers.add(current)
        connection = next(self._ids)
        try:
            while (seen := await _read_request(reader, connection)) is not None:
                self.seen.append(seen)
                answer = await self._answer(seen)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"\r\nconnection: close\r\n" in answer.lower():
                    break
        finally:
            writer.close()
            self.closed.append(connection)
            self.connection_closed.set()


async def _read_request(reader: asyncio.StreamReader, connection: int) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Seen(method, path, headers, body, connection)
