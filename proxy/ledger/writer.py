"""Group commit: many concurrent ``record`` calls, one database transaction.

``await writer.record(r)`` queues the record and waits until the transaction
holding it has committed. One background task drains the queue: it takes
everything queued (up to ``max_batch``), appends it in one store transaction,
then wakes every waiter of that batch. Records that arrive while a commit runs
wait for the next one, so under load each commit carries many records and an
idle proxy commits each record at once (classic group commit; ``max_wait_s`` > 0
additionally lingers before a commit to grow batches, at that latency cost).

Failure semantics, chosen so that a client never receives an answer whose record
can be lost: when a commit fails (store error or ``commit_timeout_s``), every
waiter of that batch gets ``LedgerUnavailable`` and the edge answers the legacy
503 instead of the 200 it had computed. A timed-out commit may still land later;
that over-counts a transaction the client was told failed, which billing review
can see (status 200 in the ledger, 503 in the access log), rather than ever
under-counting one the client received.

A waiter cancelled while it waits (client gone) does not cancel the commit: its
record stays in the batch, because PDT has done the work either way.

Each commit attempt is reported to ``on_commit(records, ok)`` (the runtime wires it to
the ledger metrics: commits, failures, records per commit, by store backend).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from proxy.ledger.errors import LedgerUnavailable
from proxy.ledger.record import LedgerRecord
from proxy.observability.logging import get_logger

__all__ = ["BatchSink", "BatchStats", "CommitObserver", "GroupCommitWriter"]

_log = get_logger(__name__)

_Pending = tuple[LedgerRecord, "asyncio.Future[None]"]
# Told of each commit attempt: how many records it held and whether it committed.
CommitObserver = Callable[[int, bool], None]


class BatchSink(Protocol):
    """All the writer needs of a store (``LedgerStore.append``)."""

    async def append(self, records: Sequence[LedgerRecord]) -> None: ...


@dataclass
class BatchStats:
    """Batch sizes seen, for the shutdown log line and tests (not a hot-path metric)."""

    batches: int = 0
    records: int = 0
    largest: int = 0
    failed_batches: int = 0
    sizes: collections.Counter[int] = field(default_factory=collections.Counter)

    def add(self, size: int, *, ok: bool) -> None:
        self.batches += 1
        self.records += size
        self.largest = max(self.largest, size)
        self.sizes[size] += 1
        if not ok:
            self.failed_batches += 1


class GroupCommitWriter:
    def __init__(
        self,
        store: BatchSink,
        *,
        max_batch: int = 512,
        max_wait_s: float = 0.0,
        commit_timeout_s: float = 5.0,
        on_commit: CommitObserver | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._commit_timeout_s = commit_timeout_s
        self._pending: collections.deque[_Pending] = collections.deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.stats = BatchStats()
        self._on_commit = on_commit

    @property
    def queued(self) -> int:
        """Records waiting for a commit that has not started yet."""
        return len(self._pending)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the draining task in the running loop (the app's lifespan calls this)."""
        if self._task is not None:
            raise RuntimeError("the ledger writer was already started")
        self._task = asyncio.get_running_loop().create_task(self._drain(), name="ledger-writer")

    async def record(self, record: LedgerRecord) -> None:
        """Return once ``record`` is durable; raise ``LedgerUnavailable`` if it is not."""
        if self._closing or not self.running:
            raise LedgerUnavailable("the ledger writer is not running")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, waiter))
        self._wake.set()
        await waiter

    async def aclose(self) -> None:
        """Commit everything queued, then stop. Records arriving after this are refused."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        _log.info(
            "ledger writer closed",
            batches=self.stats.batches,
            records=self.stats.records,
            largest_batch=self.stats.largest,
            failed_batches=self.stats.failed_batches,
        )

    async def _drain(self) -> None:
        try:
            await self._drain_forever()
        finally:
            # Cancelled from outside (loop shutdown): nobody may wait forever.
            while self._pending:
                _, waiter = self._pending.popleft()
                if not waiter.done():
                    waiter.set_exception(LedgerUnavailable("ledger writer stopped"))

    async def _drain_forever(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._max_wait_s and len(self._pending) < self._max_batch and not self._closing:
                await asyncio.sleep(self._max_wait_s)
            size = min(len(self._pending), self._max_batch)
            await self._commit([self._pending.popleft() for _ in range(size)])

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for wraps the append in a task
            # of its own, once per commit.
            async with asyncio.timeout(self._commit_timeout_s):
                await self._store.append([record for record, _ in batch])
        except Exception as error:
            # Never let the task die: waiters of later batches would wait forever.
            self._counted(len(batch), ok=False)
            _log.error(
                "ledger commit failed", records=len(batch), error=type(error).__name__, detail=str(error)
            )
            for _, waiter in batch:
                if not waiter.done():
                    # One exception object per waiter: each is raised in its own task.
                    failure = LedgerUnavailable(f"ledger commit failed: {type(error).__name__}")
                    failure.__cause__ = error
                    waiter.set_exception(failure)
            return
        except asyncio.CancelledError:
            for _, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(LedgerUnavailable("ledger writer cancelled"))
            raise
        self._counted(len(batch), ok=True)
        for _, waiter in batch:
            if not waiter.done():
                waiter.set_result(None)

    def _counted(self, size: int, *, ok: bool) -> None:
        self.stats.add(size, ok=ok)
        if self._on_commit is not None:
            try:
                self._on_commit(size, ok)
            except Exception:
                # A metrics bug must not fail commits or strand the waiters.
                _log.exception("ledger commit observer failed")
