"""What the running proxy holds: ``Ledger`` (store + group-commit writer) or
``DisabledLedger`` (metering off, for benchmarks only).

The runtime builds it synchronously; the app's lifespan ``start``s it inside the
event loop (opening the store applies migrations, so a database that cannot be
reached stops the startup); ``aclose`` commits what is queued and closes the store
(graceful shutdown flushes).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from proxy.ledger.errors import LedgerUnavailable
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow
from proxy.ledger.store import LedgerStore
from proxy.ledger.writer import BatchStats, CommitObserver, GroupCommitWriter

__all__ = ["DisabledLedger", "Ledger", "LedgerService"]


class LedgerService(Protocol):
    enabled: bool

    @property
    def stats(self) -> BatchStats: ...

    async def start(self) -> None: ...
    async def record(self, record: LedgerRecord) -> None: ...
    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]: ...
    async def aclose(self) -> None: ...


class Ledger:
    enabled = True

    def __init__(
        self,
        store: LedgerStore,
        *,
        max_batch: int = 512,
        max_wait_s: float = 0.0,
        commit_timeout_s: float = 5.0,
        on_commit: CommitObserver | None = None,
    ) -> None:
        self.store = store
        self._writer_options = (max_batch, max_wait_s, commit_timeout_s)
        self._on_commit = on_commit
        self._writer: GroupCommitWriter | None = None
        self._starting = asyncio.Lock()
        self._closed = False

    @property
    def stats(self) -> BatchStats:
        return self._writer.stats if self._writer else BatchStats()

    async def start(self) -> None:
        async with self._starting:
            if self._writer is not None:
                return
            if self._closed:
                raise LedgerUnavailable("the ledger is closed")
            await self.store.open()
            max_batch, max_wait_s, commit_timeout_s = self._writer_options
            writer = GroupCommitWriter(
                self.store,
                max_batch=max_batch,
                max_wait_s=max_wait_s,
                commit_timeout_s=commit_timeout_s,
                on_commit=self._on_commit,
            )
            writer.start()
            self._writer = writer

    async def record(self, record: LedgerRecord) -> None:
        writer = self._writer
        if writer is None:
            # An app served without its lifespan (some ASGI test harnesses) still meters.
            await self.start()
            writer = self._writer
            assert writer is not None
        await writer.record(record)

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        if self._writer is None:
            await self.start()
        return await self.store.usage(month, tenant=tenant)

    async def aclose(self) -> None:
        self._closed = True
        if self._writer is not None:
            await self._writer.aclose()
            await self.store.close()


class DisabledLedger:
    """Metering off (``ledger.enabled: false``): records nothing, bills nothing."""

    enabled = False

    @property
    def stats(self) -> BatchStats:
        return BatchStats()

    async def start(self) -> None:
        return None

    async def record(self, record: LedgerRecord) -> None:
        return None

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        raise LedgerUnavailable("the ledger is disabled (ledger.enabled: false)")

    async def aclose(self) -> None:
        return None
