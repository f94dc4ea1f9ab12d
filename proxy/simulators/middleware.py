"""ASGI wrappers around the simulator's routes: injected latency and faults, and JSON 500s.

By default a fault is PDT's 503. A ``FaultMix`` widens it to what a real upstream
does under stress, for chaos runs (``load/chaos.py``): 500/502/503/504, 429 with
``Retry-After``, a connection closed mid-answer (``reset``), an answer held past
the caller's timeout (``timeout``), a 200 whose body is not the promised JSON
(``malformed``), plus latency spikes that are slow but not failed. Every injected
body carries ``FAULT_MARKER`` so a caller can prove none of them leaks through the
proxy. ``FaultStats`` counts what was injected; ``GET /_simulator/faults`` reads it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy.simulators.wire import INTERNAL_ERROR, message_body

__all__ = [
    "FAULT_KINDS",
    "FAULT_MARKER",
    "STATS_PATH",
    "FaultKind",
    "FaultMix",
    "FaultStats",
    "JsonServerErrors",
    "LatencyAndFaults",
    "send_stats",
]

_log = logging.getLogger(__name__)
# Only PDT's own API misbehaves; the simulator-only routes stay reliable for tests.
# (Everything else is PDT's: its paths are data, in mappings/pdt/vocabulary.yaml.)
_SIMULATOR_PREFIX: Final = "/_simulator/"
_UNAVAILABLE: Final = orjson.dumps(message_body("The service is temporarily unavailable."))
_INTERNAL: Final = orjson.dumps(message_body(INTERNAL_ERROR))

FaultKind = Literal["500", "502", "503", "504", "429", "reset", "timeout", "malformed"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)
# In every injected body: text no legacy answer contains, so a leak is a substring test.
FAULT_MARKER: Final = "pdt-simulator-injected-fault"
# Simulator-only, outside PDT's /v1/ so it never faults itself.
STATS_PATH: Final = "/_simulator/faults"
_STATUS_MESSAGES: Final[Mapping[int, str]] = {
    500: "An error has occurred.",
    502: "Bad gateway.",
    503: "The service is temporarily unavailable.",
    504: "The gateway did not answer in time.",
    429: "Too many requests.",
}


@dataclass(frozen=True)
class FaultMix:
    """Which faults a faulted call gets, by relative weight, and the latency spikes."""

    weights: Mapping[FaultKind, float]
    # Longer than the caller's read timeout, or the fault is only slowness.
    timeout_ms: float = 2_000.0
    # Share of calls (faulted or not) delayed by a spike drawn from ``spike_ms``.
    spike_rate: float = 0.0
    spike_ms: tuple[float, float] = (300.0, 800.0)
    # Retry-After values a 429 draws from: 0 and 1 s are worth waiting for, 3 s is not.
    retry_after_s: tuple[int, ...] = (0, 1, 3)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)} (kinds: {', '.join(FAULT_KINDS)})")
        if not self.weights or any(weight < 0 for weight in self.weights.values()):
            raise ValueError("fault weights must be non-negative, at least one positive")
        if sum(self.weights.values()) <= 0:
            raise ValueError("fault weights must be non-negative, at least one positive")
        if not 0 <= self.spike_rate <= 1:
            raise ValueError("spike_rate is a share of calls, from 0 to 1")
        if not self.retry_after_s:
            raise ValueError("retry_after_s needs at least one value")

    @classmethod
    def parse(cls, text: str, **options: Any) -> FaultMix:
        """``"503=2,429=1,reset"`` (a kind without ``=`` weighs 1), for command lines."""
        weights: dict[FaultKind, float] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, weight = item.partition("=")
            if name not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {name!r} (kinds: {', '.join(FAULT_KINDS)})")
            try:
                weights[name] = float(weight) if weight else 1.0
            except ValueError:
                raise ValueError(f"fault weight {weight!r} of {name} is not a number") from None
        return cls(weights, **options)

    def pick(self, rng: random.Random) -> FaultKind:
        kinds = [kind for kind in FAULT_KINDS if self.weights.get(kind, 0) > 0]
        return rng.choices(kinds, weights=[self.weights[kind] for kind in kinds])[0]


@dataclass
class FaultStats:
    """What the middleware did: calls seen, faults injected by kind, latency spikes."""

    calls: int = 0
    spikes: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "spikes": self.spikes,
            "faults_total": sum(self.faults.values()),
            "faults": dict(sorted(self.faults.items())),
        }


async def _send(send: Send, status: int, body: bytes, *, headers: Mapping[str, str] | None = None) -> None:
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(name.encode(), value.encode()) for name, value in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def send_stats(stats: FaultStats, send: Send) -> None:
    """The ``GET /_simulator/faults`` answer (the legacy simulator serves it too)."""
    await _send(send, 200, orjson.dumps(stats.snapshot()))


def _marked(message: str) -> bytes:
    return orjson.dumps({"message": f"{message} ({FAULT_MARKER})"})


class LatencyAndFaults:
    """Delays each PDT call by ``latency_ms`` plus up to ``jitter_ms`` (and, with a mix,
    sometimes a spike); fails ``fault_rate`` of them with a fault drawn from ``mix``
    (PDT's 503 when no mix is given). Draws come from ``rng``: a seeded run replays."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        latency_ms: float,
        jitter_ms: float,
        fault_rate: float,
        rng: random.Random,
        mix: FaultMix | None = None,
        stats: FaultStats | None = None,
    ) -> None:
        self.app = app
        self._latency_ms = latency_ms
        self._jitter_ms = jitter_ms
        self._fault_rate = fault_rate
        self._rng = rng
        self._mix = mix
        self.stats = stats if stats is not None else FaultStats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            await send_stats(self.stats, send)
            return
        if scope["type"] != "http" or scope["path"].startswith(_SIMULATOR_PREFIX):
            await self.app(scope, receive, send)
            return
        self.stats.calls += 1
        delay_ms = self._latency_ms + (self._rng.uniform(0, self._jitter_ms) if self._jitter_ms else 0.0)
        mix = self._mix
        if mix is not None and mix.spike_rate and self._rng.random() < mix.spike_rate:
            self.stats.spikes += 1
            delay_ms += self._rng.uniform(*mix.spike_ms)
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        if not (self._fault_rate and self._rng.random() < self._fault_rate):
            await self.app(scope, receive, send)
            return
        if mix is None:
            # The historical fault, byte for byte (no marker): existing callers rely on it.
            self.stats.faults["503"] += 1
            await _send(send, 503, _UNAVAILABLE)
            return
        kind = mix.pick(self._rng)
        self.stats.faults[kind] += 1
        await self._inject(kind, mix, send)

    async def _inject(self, kind: FaultKind, mix: FaultMix, send: Send) -> None:
        if kind == "reset":
            # Headers promise a body that never comes; returning with the response
            # unfinished makes the server close the connection mid-answer.
            body = _marked("reset")
            start: Message = {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
            await send(start)
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        elif kind == "timeout":
            await asyncio.sleep(mix.timeout_ms / 1000)
            await _send(send, 504, _marked(_STATUS_MESSAGES[504]))
        elif kind == "malformed":
            await self._malformed(send)
        elif kind == "429":
            retry_after = str(self._rng.choice(mix.retry_after_s))
            await _send(send, 429, _marked(_STATUS_MESSAGES[429]), headers={"retry-after": retry_after})
        else:
            status = int(kind)
            await _send(send, status, _marked(_STATUS_MESSAGES[status]))

    async def _malformed(self, send: Send) -> None:
        """A 200 the caller cannot use: cut-off JSON, a gateway's HTML page, or JSON of another shape."""
        variant = self._rng.randrange(3)
        if variant == 0:
            # Cut off mid-value, after the marker, as a body lost in transit would be.
            await _send(send, 200, b'{"message": "%s", "id": "3f2a' % FAULT_MARKER.encode())
        elif variant == 1:
            page = f"<html><body><h1>Bad gateway</h1><!-- {FAULT_MARKER} --></body></html>".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/html"), (b"content-length", b"%d" % len(page))],
                }
            )
            await send({"type": "http.response.body", "body": page})
        else:
            await _send(send, 200, orjson.dumps([{"unexpected": FAULT_MARKER}]))


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
                await _send(send, 500, _INTERNAL)
