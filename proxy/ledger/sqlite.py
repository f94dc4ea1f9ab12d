"""The SQLite ledger store: the default, a file under the data directory.

All database work runs on one dedicated thread that owns the connection (sqlite3
connections are not meant to be shared across threads, and a blocking commit must
never stall the event loop). The group-commit writer hands it whole batches, so
that thread does one transaction per batch, not per request.

Durability: WAL journal with ``synchronous=NORMAL`` by default. A commit in WAL
mode appends the transaction's pages to the ``-wal`` file with ``write()`` before
``COMMIT`` returns; NORMAL skips only the ``fsync`` (done at checkpoints). Once
``write()`` returns, the bytes are in the kernel's page cache, which belongs to
the operating system, not to the process: a ``kill -9`` of the proxy cannot take
them back, and the next open replays the WAL. What NORMAL does not survive is a
power cut or kernel crash before the next checkpoint: that is
``sqlite_synchronous: FULL`` (one fsync per group commit) or PostgreSQL.

Several workers (``serve --workers N``) share the file: each has its own
connection and thread; WAL lets readers run beside the one writer, writers take
the lock up front (``BEGIN IMMEDIATE``, so no reader-turned-writer deadlock) and
wait for each other up to ``busy_timeout``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from proxy.ledger.migrations import migrations
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow, decode_modules, encode_modules

__all__ = ["SqliteStore"]

_T = TypeVar("_T")
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_COLUMNS: Final = (
    "at, tenant, product, operation, stage, side, pdt_transaction_id, modules, status, latency_ms, request_id"
)
_INSERT: Final = f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
_GROUP: Final = "tenant, product, operation, stage, side, status, modules"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def _row(record: LedgerRecord) -> tuple[Any, ...]:
    return (
        _time(record.at),
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
    )


def _split_statements(script: str) -> list[str]:
    """A migration file as single statements (``executescript`` would COMMIT the
    migration's transaction before running it)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    leftover = [line for line in pending.splitlines() if line.strip() and not line.strip().startswith("--")]
    if leftover:
        raise RuntimeError("ledger migration ends with an incomplete SQL statement")
    return statements


class SqliteStore:
    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 5000,
    ) -> None:
        self.path = path
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._closed = False

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        def call() -> _T:
            if self._connection is None:
                raise RuntimeError("the SQLite ledger store is not open")
            return work(self._connection)

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._open)

    def _open(self) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are spelled out (BEGIN IMMEDIATE).
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            _enable_wal(connection, deadline=time.monotonic() + self._busy_timeout_ms / 1000)
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            _migrate(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        rows = [_row(record) for record in records]

        def write(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(_INSERT, rows)
            except BaseException:
                _rollback(connection)
                raise
            connection.execute("COMMIT")

        if rows:
            await self._run(write)

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

        return await self._run(read)

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_COLUMNS} FROM ledger WHERE {where} ORDER BY at, id"  # noqa: S608

        def read(connection: sqlite3.Connection) -> list[LedgerRecord]:
            return [
                LedgerRecord(
                    at=datetime.strptime(at, _TIME_FORMAT).replace(tzinfo=UTC),
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
                )
                for at, t, p, o, st, si, tid, m, status, latency, rid in connection.execute(query, parameters)
            ]

        return await self._run(read)

    async def close(self) -> None:
        """Idempotent: the ledger and whoever opened the store may both close it."""
        if self._closed:
            return
        self._closed = True

        def shut() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)


def _enable_wal(connection: sqlite3.Connection, *, deadline: float) -> None:
    """WAL mode, persistent in the file. Switching a fresh file takes an exclusive
    lock, and SQLite answers "locked" at once, without its busy handler, when
    another worker is switching it at the same moment: retry until the deadline."""
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() != "wal":
            raise RuntimeError(f"SQLite ledger: journal_mode is {mode!r}, WAL is required")
        return


def _month_filter(month: Month, tenant: str | None) -> tuple[str, tuple[str, ...]]:
    if tenant is None:
        return "at >= ? AND at < ?", (_time(month.start), _time(month.end))
    return "tenant = ? AND at >= ? AND at < ?", (tenant, _time(month.start), _time(month.end))


def _migrate(connection: sqlite3.Connection) -> None:
    # The write lock first: two workers opening a fresh file at once must not both
    # see version 0 and both create the table.
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        current = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        for migration in migrations("sqlite"):
            if migration.version <= current:
                continue
            for statement in _split_statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, _time(datetime.now(UTC))),
            )
    except BaseException:
        _rollback(connection)
        raise
    connection.execute("COMMIT")


def _rollback(connection: sqlite3.Connection) -> None:
    # Guarded: a failed statement may already have ended the transaction, and a
    # second error here would hide the first.
    if connection.in_transaction:
        connection.execute("ROLLBACK")
