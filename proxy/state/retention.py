"""Shadow results and recorded exchanges older than their retention periods are
deleted, once at start and then hourly.

A backtest looks at weeks, and results hold no personal data, but a table that
only grows is an outage scheduled for later; the recorded corpus (pseudonymised
traffic) is kept no longer than a replay needs it. Each worker prunes; the
deletes are idempotent, so several workers doing it costs a few cheap statements.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from proxy.observability.logging import get_logger
from proxy.state.store import StateStore

__all__ = ["ShadowRetention"]

_log = get_logger(__name__)


class ShadowRetention:
    def __init__(
        self,
        store: StateStore,
        *,
        keep_days: int,
        recorded_keep_days: int | None = None,
        every_s: float = 3600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._keep = timedelta(days=keep_days)
        # None: the recorded corpus is not pruned here (its recorder is off).
        self._keep_recorded = None if recorded_keep_days is None else timedelta(days=recorded_keep_days)
        self._every_s = every_s
        self._now = now
        self._task: asyncio.Task[None] | None = None

    async def prune_once(self) -> int:
        now = self._now()
        deleted = await self._store.prune_shadow(now - self._keep)
        if deleted:
            _log.info("old shadow results pruned", deleted=deleted)
        if self._keep_recorded is not None:
            recorded = await self._store.prune_recorded(now - self._keep_recorded)
            if recorded:
                _log.info("old recorded exchanges pruned", deleted=recorded)
            deleted += recorded
        return deleted

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def _forever(self) -> None:
        while True:
            try:
                await self.prune_once()
            except Exception:
                _log.warning("shadow results not pruned; will try again", exc_info=True)
            await asyncio.sleep(self._every_s)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
