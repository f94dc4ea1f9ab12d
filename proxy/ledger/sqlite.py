"""The SQLite ledger store: the default, a file under the data directory.

The group-commit writer hands the store whole batches, one transaction per
batch, not per request. Under ``synchronous=NORMAL`` a batch commits on the event
loop itself when the write lock is free (``SqliteDatabase.write_now``: a WAL
append without fsync, cheaper than the two thread hops it saves); otherwise, and
for reads and checkpoints, the work runs on the database's own thread, where
waiting for the lock or the disk never stalls the loop.

Durability: WAL journal with ``synchronous=NORMAL`` by default. A commit in WAL
mode appends the transaction's pages to the ``-wal`` file with ``write()`` before
``COMMIT`` returns; NORMAL skips only the ``fsync`` (done at checkpoints). Once
``write()`` returns, the bytes are in the kernel's page cache, which belongs to
the operating system, not to the process: a ``kill -9`` of the proxy cannot take
them back, and the next open replays the WAL. What NORMAL does not survive is a
power cut or kernel crash before the next checkpoint: that is
``sqlite_synchronous: FULL`` (one fsync per group commit) or PostgreSQL.

Several workers (``serve --workers N``) and the state store share the file:
each has its own connection and thread (``proxy.db.sqlite``, which also holds the
WAL switch and the migrations); writers take the lock up front and wait for each
other up to ``busy_timeout``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from proxy.db.sqlite import InlineStats, SqliteDatabase, from_text, to_text
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow, decode_modules, encode_modules

__all__ = ["SqliteStore"]

_COLUMNS: Final = (
    "at, tenant, product, operation, stage, side, pdt_transaction_id, modules, status, latency_ms, "
    "request_id, fallback"
)
_INSERT: Final = f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_GROUP: Final = "tenant, product, operation, stage, side, status, modules"


def _row(record: LedgerRecord) -> tuple[Any, ...]:
    return (
        to_text(record.at),
        record.tenant,
        record.product,
        record.operation,
        record.stage,
        record.side,
        record.pdt_transaction_id,
        encode_modules(record.modules),
        record.status,
        record.latency_ms,
        record.request_id,
        record.fallback,
    )


class SqliteStore:
    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 5000,
        auto_migrate: bool = True,
    ) -> None:
        self.path = path
        self._database = SqliteDatabase(
            path,
            synchronous=synchronous,
            busy_timeout_ms=busy_timeout_ms,
            name="ledger",
            auto_migrate=auto_migrate,
        )

    @property
    def inline_stats(self) -> InlineStats:
        return self._database.inline_stats

    async def open(self) -> None:
        await self._database.open()

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        rows = [_row(record) for record in records]
        if rows:
            await self._database.write(lambda connection: connection.executemany(_INSERT, rows))

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        where, parameters = _month_filter(month, tenant)
        query = (
            f"SELECT {_GROUP}, COUNT(*) FROM ledger WHERE {where} "  # noqa: S608 (fixed text, bound values)
            f"GROUP BY {_GROUP} ORDER BY {_GROUP}"
        )

        def read(connection: sqlite3.Connection) -> list[UsageRow]:
            return [
                UsageRow(t, p, o, st, si, int(status), decode_modules(m), int(n))
                for t, p, o, st, si, status, m, n in connection.execute(query, parameters)
            ]

        return await self._database.run(read)

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_COLUMNS} FROM ledger WHERE {where} ORDER BY at, id"  # noqa: S608

        def read(connection: sqlite3.Connection) -> list[LedgerRecord]:
            return [
                LedgerRecord(
                    at=from_text(at),
                    tenant=t,
                    product=p,
                    operation=o,
                    stage=st,
                    side=si,
                    pdt_transaction_id=tid,
                    modules=decode_modules(m),
                    status=int(status),
                    latency_ms=float(latency),
                    request_id=rid,
                    fallback=fb,
                )
                for at, t, p, o, st, si, tid, m, status, latency, rid, fb in connection.execute(
                    query, parameters
                )
            ]

        return await self._database.run(read)

    async def close(self) -> None:
        """Idempotent: the ledger and whoever opened the store may both close it."""
        await self._database.close()


def _month_filter(month: Month, tenant: str | None) -> tuple[str, tuple[str, ...]]:
    if tenant is None:
        return "at >= ? AND at < ?", (to_text(month.start), to_text(month.end))
    return "tenant = ? AND at >= ? AND at < ?", (tenant, to_text(month.start), to_text(month.end))
