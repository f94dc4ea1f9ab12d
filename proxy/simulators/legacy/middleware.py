"""Injected latency, faults and timeouts, answered in the legacy family's own shapes."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.errors import UpstreamTimeout, UpstreamUnavailable
from proxy.mapping.error_table import ErrorTable
from proxy.simulators.legacy.settings import LegacySimulatorSettings
from proxy.simulators.legacy.wire import error_answer
from proxy.simulators.middleware import STATS_PATH, FaultStats, send_stats

__all__ = ["LegacyLatencyAndFaults", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


class LegacyLatencyAndFaults:
    """Delays each legacy call by ``latency_ms`` plus up to ``latency_jitter_ms``; then
    answers ``fault_rate`` of them with the family's 503 and holds ``timeout_rate`` of
    them for ``timeout_ms`` before the family's 504. Draws come from ``rng`` (seeded:
    the same run replays), and waiting goes through ``sleep`` (tests record it).
    What it injected is counted in ``stats``, served at ``GET /_simulator/faults``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: LegacySimulatorSettings,
        rng: random.Random,
        sleep: Sleep,
        errors_for: Callable[[str], ErrorTable | None],
    ) -> None:
        self.app = app
        self._settings = settings
        self._rng = rng
        self._sleep = sleep
        self._errors_for = errors_for
        self.stats = FaultStats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STATS_PATH:
            await send_stats(self.stats, send)
            return
        table = self._errors_for(scope["path"]) if scope["type"] == "http" else None
        if table is None:
            await self.app(scope, receive, send)
            return
        settings = self._settings
        self.stats.calls += 1
        jitter = self._rng.uniform(0, settings.latency_jitter_ms) if settings.latency_jitter_ms else 0.0
        delay_ms = settings.latency_ms + jitter
        if delay_ms > 0:
            await self._sleep(delay_ms / 1000)
        if settings.fault_rate and self._rng.random() < settings.fault_rate:
            self.stats.faults["503"] += 1
            response = error_answer(table, UpstreamUnavailable("injected fault", upstream="legacy"))
        elif settings.timeout_rate and self._rng.random() < settings.timeout_rate:
            self.stats.faults["timeout"] += 1
            await self._sleep(settings.timeout_ms / 1000)
            response = error_answer(table, UpstreamTimeout("injected timeout", upstream="legacy"))
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
