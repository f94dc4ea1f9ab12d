"""The recorder: answered legacy exchanges, sampled, masked and saved to the proxy's database.

``offer`` is called on the request path after the answer is known and never
awaits: a sampled exchange joins a bounded queue, and a full queue drops it
(counted in ``stats.dropped``) rather than make the client wait for the database.
One background task takes what has queued, masks it (``proxy.recording.capture``)
and saves the batch in one transaction through its sink, the state store
(``save_recorded``: the shadow results' write path, so every worker and replica
records into the one database ``record export`` reads). ``aclose`` stops taking
new exchanges and saves what is queued.

Only the legacy backend's own answers are recorded (``answer.side == "legacy"``,
no proxy-rendered error): a replay compares them with the PDT path's translation.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from proxy.config import RecorderSettings
from proxy.observability.logging import get_logger
from proxy.recording.capture import entry_from_exchange, recordable
from proxy.recording.key import load_corpus_key
from proxy.recording.reanswer import Reanswerer
from proxy.stages.dispatch import Answer, Exchange
from proxy.state.corpus import CorpusEntry

__all__ = ["RecordSink", "Recorder", "RecorderStats"]

_log = get_logger(__name__)


@dataclass
class RecorderStats:
    """Counters since start; ``offered`` = recordable exchanges seen."""

    offered: int = 0
    not_recordable: int = 0
    not_sampled: int = 0
    dropped: int = 0
    written: int = 0
    failed: int = 0


class RecordSink(Protocol):
    """Where masked exchanges go (``proxy.state.store.StateStore`` implements it)."""

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None: ...


@dataclass(frozen=True, slots=True)
class _Job:
    exchange: Exchange
    answer: Answer
    at: datetime


class Recorder:
    def __init__(
        self,
        settings: RecorderSettings,
        *,
        sink: RecordSink,
        key: bytes,
        directory: Path | None = None,
        sample: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        reanswer: Reanswerer | None = None,
    ) -> None:
        self.settings = settings
        # Set when the legacy backend is the built-in simulator (proxy.recording.reanswer).
        self._reanswer = reanswer
        self.stats = RecorderStats()
        self._key = key
        self._sink = sink
        # Where the key file lives (and corpus files of earlier releases); nothing is written there.
        self._directory = directory
        self._sample = sample
        self._now = now
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=settings.queue_size)
        self._task: asyncio.Task[None] | None = None
        self._accepting = True

    @classmethod
    def from_settings(
        cls,
        settings: RecorderSettings,
        data_dir: Path,
        sink: RecordSink,
        environ: Mapping[str, str] | None = None,
        *,
        reanswer: Reanswerer | None = None,
        shared_database: bool = False,
    ) -> Recorder:
        """The recorder of a proxy whose key file lives under ``data_dir``, saving to ``sink``."""
        directory = data_dir / settings.directory
        key = (
            load_corpus_key(settings.key, directory, environ, shared_database=shared_database)
            if settings.enabled
            else b""
        )
        return cls(settings, sink=sink, key=key, directory=directory, reanswer=reanswer)

    @property
    def directory(self) -> Path | None:
        return self._directory

    def offer(self, exchange: Exchange, answer: Answer) -> None:
        """Queue the exchange for the corpus if recordable and sampled; never blocks or raises."""
        if not self.settings.enabled or not self._accepting:
            return
        if not recordable(answer):
            self.stats.not_recordable += 1
            return
        self.stats.offered += 1
        if self._sample() >= self.settings.sample_rate:
            self.stats.not_sampled += 1
            return
        try:
            self._queue.put_nowait(_Job(exchange, answer, self._now()))
        except asyncio.QueueFull:
            self.stats.dropped += 1
            return
        if self._task is None:
            # A fresh context: the writer outlives the request that started it.
            self._task = asyncio.get_running_loop().create_task(
                self._write_loop(), context=contextvars.Context()
            )

    async def _write_loop(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._write(jobs)
            finally:
                for _ in jobs:
                    self._queue.task_done()

    async def _write(self, jobs: list[_Job]) -> None:
        entries: list[CorpusEntry] = []
        for job in jobs:
            try:
                entry = entry_from_exchange(job.exchange, job.answer, key=self._key, now=job.at)
                if self._reanswer is not None:
                    entry = await self._reanswer.entry_for(job.exchange, job.answer, entry)
                entries.append(entry)
            except Exception:
                # One odd exchange is lost, the recorder is not.
                self.stats.failed += 1
                _log.exception("corpus entry not recorded", request_id=job.exchange.request_id)
        if not entries:
            return
        try:
            await self._sink.save_recorded(entries)
        except Exception as error:
            # The batch is lost, never the writer: it must keep draining the queue, or
            # shutdown would wait on it forever. The class only: a driver's message may
            # quote the statement's values.
            self.stats.failed += len(entries)
            _log.error("recorded exchanges not saved", count=len(entries), error=type(error).__name__)
            return
        self.stats.written += len(entries)

    async def aclose(self) -> None:
        """Stop accepting and save everything queued (before the database closes). Idempotent."""
        self._accepting = False
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
