"""Reloading the configuration set: check the candidate whole, swap, audit, and follow.

``ConfigReloader.reload`` loads a candidate set off the event loop (the answers
keep flowing), and only when every check passed swaps it into ``LiveConfig``;
on any error the running set stays and the refusal names file, rule and reason.
Each reload asked of this replica (POST /admin/reload, SIGHUP, the file watcher)
is appended to the shared database's reload audit; an accepted one moves the
configuration generation, which every replica polls (as ``StageControl`` polls
stage overrides) and answers by reloading its own files. A replica that cannot
reach the database keeps serving its set and follows once it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from proxy.errors import ConfigError
from proxy.live.config_set import ConfigSet, LiveConfig
from proxy.live.fingerprint import Fingerprint
from proxy.live.refusal import Refusal, refusal_of
from proxy.observability.logging import get_logger
from proxy.state.records import ConfigReload
from proxy.state.store import StateStore

__all__ = ["ConfigReloader", "ReloadMetrics", "ReloadOutcome"]

_log = get_logger(__name__)

# Who a replica's own follow-up reload is attributed to in its log and outcome.
FOLLOW_ACTOR = "generation"


class ReloadMetrics(Protocol):
    def count_reload(self, outcome: str) -> None: ...

    def config_loaded(self, version: str, hashes: dict[str, str]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadOutcome:
    at: datetime
    actor: str
    trigger: str
    # The set in force after this reload (the old one when refused).
    fingerprint: Fingerprint
    refusal: Refusal | None = None
    changed: bool = False
    # The reload's row in the shared database; 0 when not stored (a follow-up, or
    # the database did not answer: the other replicas were then not told).
    generation: int = 0
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "outcome": "ok" if self.ok else "refused",
            "at": self.at.isoformat(),
            "actor": self.actor,
            "trigger": self.trigger,
            "changed": self.changed,
            "generation": self.generation,
            "duration_ms": round(self.duration_s * 1000, 1),
            **self.fingerprint.to_json(),
        }
        if self.refusal is not None:
            answer["refused"] = self.refusal.to_json()
        return answer


class ConfigReloader:
    def __init__(
        self,
        live: LiveConfig,
        *,
        load: Callable[[], ConfigSet],
        store: StateStore,
        metrics: ReloadMetrics,
        refresh_every_s: float = 1.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.live = live
        self._load = load
        self._store = store
        self._metrics = metrics
        self._refresh_every_s = refresh_every_s
        self._now = now
        # One reload at a time in this process: two concurrent swaps could land in
        # the opposite order of their loads.
        self._lock = asyncio.Lock()
        self._followed = 0
        self.loaded_at = now()
        self.last: ReloadOutcome | None = None
        self._poller: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[ReloadOutcome]] = set()
        metrics.config_loaded(live.current.fingerprint.short, dict(live.current.fingerprint.parts))

    @property
    def followed_generation(self) -> int:
        return self._followed

    async def reload(self, *, actor: str, trigger: str) -> ReloadOutcome:
        """Load, check and swap the set; tell the other replicas when it was accepted."""
        async with self._lock:
            outcome = await self._reload_files(actor=actor, trigger=trigger)
            record = ConfigReload(
                outcome.at,
                actor,
                trigger,
                "ok" if outcome.ok else "refused",
                outcome.fingerprint.version if outcome.ok else "",
                outcome.refusal.text if outcome.refusal is not None else "",
            )
            try:
                generation = await self._store.record_reload(record)
            except Exception:
                _log.warning("reload not recorded: the other replicas will not follow it", exc_info=True)
                generation = 0
            if outcome.ok and generation:
                # This replica already runs it: its own poll must not reload again.
                self._followed = max(self._followed, generation)
            outcome = replace(outcome, generation=generation)
            self.last = outcome
            return outcome

    async def _reload_files(self, *, actor: str, trigger: str) -> ReloadOutcome:
        started = time.perf_counter()
        at = self._now()
        old = self.live.current
        try:
            # Off the loop: compiling the mappings takes tens of milliseconds, and the
            # answers in flight keep their set meanwhile.
            candidate = await asyncio.to_thread(self._load)
        except (ConfigError, OSError, ValueError) as error:
            return self._refused(at, actor, trigger, refusal_of(error), started)
        except Exception as error:
            _log.exception("reload failed unexpectedly", actor=actor, trigger=trigger)
            return self._refused(at, actor, trigger, refusal_of(error), started)
        changed = candidate.fingerprint.version != old.fingerprint.version
        if changed:
            self.live.swap(candidate)
            self.loaded_at = at
        fingerprint = self.live.current.fingerprint
        self._metrics.count_reload("ok")
        self._metrics.config_loaded(fingerprint.short, dict(fingerprint.parts))
        duration = time.perf_counter() - started
        _log.info(
            "configuration reloaded" if changed else "configuration reloaded, unchanged",
            actor=actor,
            trigger=trigger,
            version=fingerprint.short,
            previous=old.fingerprint.short,
            duration_ms=round(duration * 1000, 1),
        )
        return ReloadOutcome(
            at=at,
            actor=actor,
            trigger=trigger,
            fingerprint=fingerprint,
            changed=changed,
            duration_s=duration,
        )

    def _refused(
        self, at: datetime, actor: str, trigger: str, refusal: Refusal, started: float
    ) -> ReloadOutcome:
        self._metrics.count_reload("refused")
        _log.warning(
            "configuration reload refused; the running set stays",
            actor=actor,
            trigger=trigger,
            file=refusal.file,
            rule=refusal.rule,
            reason=refusal.reason,
            version=self.live.current.fingerprint.short,
        )
        return ReloadOutcome(
            at=at,
            actor=actor,
            trigger=trigger,
            fingerprint=self.live.current.fingerprint,
            refusal=refusal,
            duration_s=time.perf_counter() - started,
        )

    async def follow(self) -> ReloadOutcome | None:
        """Reload this replica's files when another replica moved the generation."""
        generation = await self._store.config_generation()
        if generation <= self._followed:
            return None
        async with self._lock:
            if generation <= self._followed:
                return None
            outcome = await self._reload_files(actor=FOLLOW_ACTOR, trigger="follow")
            # Followed even when refused here: retrying every second would log the same
            # refusal forever; the next accepted reload anywhere tries again.
            self._followed = generation
            outcome = replace(outcome, generation=generation)
            self.last = outcome
            return outcome

    def request_reload(self, *, actor: str, trigger: str) -> None:
        """Ask for a reload from outside the loop (a signal handler, a watcher thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            _log.warning("reload asked before the proxy started; ignored", trigger=trigger)
            return

        def schedule() -> None:
            task = loop.create_task(self.reload(actor=actor, trigger=trigger))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        loop.call_soon_threadsafe(schedule)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            # The files read at startup are the newest: nothing older to follow.
            self._followed = await self._store.config_generation()
        except Exception:
            _log.warning("configuration generation not read; following from 0", exc_info=True)
        self._poller = self._loop.create_task(self._follow_forever())

    async def _follow_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_every_s)
            try:
                await self.follow()
            except Exception:
                _log.warning("configuration generation not read; keeping this set", exc_info=True)

    async def aclose(self) -> None:
        tasks = [task for task in (self._poller, *self._pending) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._poller = None
        self._loop = None

    def describe(self) -> dict[str, Any]:
        """This replica's set, for ``GET /admin/config``."""
        return {
            **self.live.current.fingerprint.to_json(),
            "loaded_at": self.loaded_at.isoformat(),
            "generation": self._followed,
            "last_reload": self.last.to_json() if self.last is not None else None,
        }
