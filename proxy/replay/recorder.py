"""The recorder: answered legacy exchanges, sampled, masked and appended to a corpus.

``offer`` is called on the request path after the answer is known and never
awaits: a sampled exchange joins a bounded queue, and a full queue drops it
(counted in ``stats.dropped``) rather than make the client wait for a disk. One
background task takes what has queued, masks it (``proxy.replay.capture``) and
appends the lines in a worker thread (``proxy.replay.files``: size cap, rotation).
``aclose`` stops taking new exchanges, writes what is queued and closes the file.

Only the legacy backend's own answers are recorded (``answer.side == "legacy"``,
no proxy-rendered error): a replay compares them with the PDT path's translation.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from proxy.observability.logging import get_logger
from proxy.replay.capture import entry_from_exchange, recordable
from proxy.replay.corpus import entry_to_line
from proxy.replay.files import CorpusFiles
from proxy.replay.key import load_corpus_key
from proxy.replay.reanswer import Reanswerer
from proxy.replay.settings import RecorderSettings
from proxy.stages.dispatch import Answer, Exchange

__all__ = ["Recorder", "RecorderStats"]

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
        directory: Path,
        key: bytes,
        stem: str | None = None,
        sample: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        reanswer: Reanswerer | None = None,
    ) -> None:
        self.settings = settings
        # Set when the legacy backend is the built-in simulator (proxy.replay.reanswer).
        self._reanswer = reanswer
        self.stats = RecorderStats()
        self._key = key
        self._files = CorpusFiles(
            directory, max_bytes=settings.max_bytes, max_files=settings.max_files, stem=stem, clock=now
        )
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
        environ: Mapping[str, str] | None = None,
        *,
        reanswer: Reanswerer | None = None,
    ) -> Recorder:
        """The recorder of a proxy whose state lives in ``data_dir``; the key is loaded here."""
        directory = data_dir / settings.directory
        key = load_corpus_key(settings.key, directory, environ) if settings.enabled else b""
        return cls(settings, directory=directory, key=key, reanswer=reanswer)

    @property
    def directory(self) -> Path:
        return self._files.directory

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
        lines: list[bytes] = []
        for job in jobs:
            try:
                entry = entry_from_exchange(job.exchange, job.answer, key=self._key, now=job.at)
                if self._reanswer is not None:
                    entry = await self._reanswer.entry_for(job.exchange, job.answer, entry)
                lines.append(entry_to_line(entry))
            except Exception:
                # One odd exchange is lost, the recorder is not.
                self.stats.failed += 1
                _log.exception("corpus entry not recorded", request_id=job.exchange.request_id)
        try:
            await asyncio.to_thread(self._files.append, lines)
        except OSError as error:
            self.stats.failed += len(lines)
            _log.error("corpus write failed", directory=str(self._files.directory), error=error.strerror)
            return
        except Exception:
            # Anything else loses these lines, never the writer: it must keep draining
            # the queue, or shutdown would wait on it forever.
            self.stats.failed += len(lines)
            _log.exception("corpus write failed", directory=str(self._files.directory))
            return
        self.stats.written += len(lines)

    async def aclose(self) -> None:
        """Stop accepting, write everything queued, close the file. Idempotent."""
        self._accepting = False
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self._files.close)
