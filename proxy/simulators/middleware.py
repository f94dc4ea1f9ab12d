"""ASGI wrappers around the simulator's routes: injected latency and faults, and JSON 500s."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Final

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy.simulators.wire import INTERNAL_ERROR, message_body

__all__ = ["JsonServerErrors", "LatencyAndFaults"]

_log = logging.getLogger(__name__)
# Only PDT's own API misbehaves; the simulator-only routes stay reliable for tests.
_PDT_PREFIX: Final = "/v1/"
_UNAVAILABLE: Final = orjson.dumps(message_body("The service is temporarily unavailable."))
_INTERNAL: Final = orjson.dumps(message_body(INTERNAL_ERROR))


async def _send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class LatencyAndFaults:
    """Delays each PDT call by ``latency_ms`` plus up to ``jitter_ms``; fails ``fault_rate`` with 503."""

    def __init__(
        self, app: ASGIApp, *, latency_ms: float, jitter_ms: float, fault_rate: float, rng: random.Random
    ) -> None:
        self.app = app
        self._latency_ms = latency_ms
        self._jitter_ms = jitter_ms
        self._fault_rate = fault_rate
        self._rng = rng

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PDT_PREFIX):
            await self.app(scope, receive, send)
            return
        delay_ms = self._latency_ms + (self._rng.uniform(0, self._jitter_ms) if self._jitter_ms else 0.0)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if self._fault_rate and self._rng.random() < self._fault_rate:
            await _send_json(send, 503, _UNAVAILABLE)
            return
        await self.app(scope, receive, send)


class JsonServerErrors:
    """Answers any unexpected exception with PDT's JSON 500, never a stack trace."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            _log.exception("PDT simulator: unexpected error")
            # Once the status line is out nothing better can be sent; the server closes the connection.
            if not started and scope["type"] == "http":
                await _send_json(send, 500, _INTERNAL)
