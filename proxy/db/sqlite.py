"""SQLite plumbing shared by the stores: a connection on its own thread, WAL, migrations.

``SqliteDatabase`` owns one connection and one dedicated thread that does all
the work on it: sqlite3 connections are not meant to be shared across threads,
and a blocking commit must never stall the event loop. Each store holds its own
``SqliteDatabase`` on the same file (the ledger and the state store), so a slow
ledger commit does not queue a stage change behind it on the same thread.

Several connections (stores, and workers of ``serve --workers N``) share the
file: WAL lets readers run beside the one writer, writers take the lock up front
(``BEGIN IMMEDIATE``, so no reader-turned-writer deadlock) and wait for each
other up to ``busy_timeout``.

Short writes can skip the thread (``write`` through ``write_now``): under
``synchronous=NORMAL`` the database opens a second connection that the event loop
uses directly, with no busy wait and no automatic checkpoint. Handing a commit to the thread and back
costs the loop more CPU (two wake-ups across threads) than a WAL commit under
``synchronous=NORMAL`` costs on the loop itself (one ``write()`` into the page
cache, no ``fsync``). What could block, never runs inline: a commit that must
wait for another writer's lock (``write_now`` says so and the caller uses
``run``), a checkpoint (run on the thread every ``checkpoint_every`` inline
commits) and every commit under ``synchronous=FULL`` (its fsync per commit).

Times are stored as UTC text with microseconds and a ``Z`` (``to_text``), so
text order is time order and time ranges are plain string comparisons that use
an index.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Literal, TypeVar

from proxy.db.migrations import migrations
from proxy.db.schema import check_version, latest_version
from proxy.observability.logging import get_logger

__all__ = [
    "InlineStats",
    "SqliteDatabase",
    "check_schema",
    "enable_wal",
    "from_text",
    "migrate",
    "schema_version",
    "split_statements",
    "to_text",
    "transaction",
]

_T = TypeVar("_T")
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_log = get_logger(__name__)


def to_text(moment: datetime) -> str:
    # The text of _TIME_FORMAT, written with %-formatting: strftime re-reads the format
    # and detours through time.strftime (22 k instructions), isoformat parses its keyword
    # and renders the offset (17 k), an f-string calls format() per field (21 k); this
    # takes 13 k, once per ledger record.
    at = moment.astimezone(UTC)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 (see above)
        at.year,
        at.month,
        at.day,
        at.hour,
        at.minute,
        at.second,
        at.microsecond,
    )


def from_text(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


class SqliteDatabase:
    """One connection to ``path``, used only from its own thread; opened (and
    migrated) by ``open``, used through ``run``; under ``synchronous=NORMAL``, a
    second one for ``write_now`` on the event loop."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 5000,
        name: str = "sqlite",
        checkpoint_every: int = 256,
        auto_migrate: bool = True,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.path = path
        # False: open only checks the schema (``pdt-proxy migrate`` applies it).
        self._auto_migrate = auto_migrate
        self._synchronous = synchronous
        self._busy_timeout_ms = busy_timeout_ms
        self._name = name
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-sqlite")
        self._connection: sqlite3.Connection | None = None
        # Decided here, not by each store: a FULL commit fsyncs, too slow for the loop.
        self._inline_writes = synchronous == "NORMAL"
        self._inline: sqlite3.Connection | None = None
        self._checkpoint_every = checkpoint_every
        self._inline_commits = 0
        self._checkpoint: asyncio.Task[None] | None = None
        self._closed = False
        self.inline_stats = InlineStats()

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work(connection)`` on the connection's thread."""

        def call() -> _T:
            if self._connection is None:
                raise RuntimeError(f"the SQLite {self._name} store is not open")
            return work(self._connection)

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def write(self, statements: Callable[[sqlite3.Connection], object]) -> None:
        """``statements`` in one transaction: on the loop when inline writes are on and
        the write lock is free, otherwise on the thread, which waits for the lock."""
        if self._inline_writes and self.write_now(statements):
            return

        def on_thread(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                statements(connection)

        await self.run(on_thread)

    def write_now(self, statements: Callable[[sqlite3.Connection], object]) -> bool:
        """Run ``statements`` in one transaction on the calling (event loop) thread,
        if the write lock is free this instant; False, with nothing written, when
        another connection holds it, at BEGIN or later (the caller then uses ``run``,
        which waits). Other errors of the statements or the commit are raised after a
        rollback."""
        connection = self._inline
        if connection is None:
            if not self._inline_writes:
                raise RuntimeError(
                    f"inline writes need synchronous=NORMAL: the SQLite {self._name} store fsyncs each commit"
                )
            raise RuntimeError(f"the SQLite {self._name} store is not open")
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                statements(connection)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as error:
            if not _is_lock_conflict(error):
                raise
            self.inline_stats.busy += 1
            return False
        self.inline_stats.commits += 1
        self._inline_commits += 1
        if self._inline_commits >= self._checkpoint_every and self._checkpoint is None:
            self._inline_commits = 0
            self._checkpoint = asyncio.get_running_loop().create_task(self._checkpoint_wal())
        return True

    async def _checkpoint_wal(self) -> None:
        """Copy the WAL back into the database file on the thread. PASSIVE: it never
        waits for readers or writers, and the inline connection keeps committing
        while it runs; frames it could not copy yet are taken by the next one."""
        try:
            await self.run(lambda connection: connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())
            self.inline_stats.checkpoints += 1
        except Exception as error:  # a failed checkpoint loses nothing: the WAL still holds every commit
            self.inline_stats.failed_checkpoints += 1
            _log.warning("sqlite checkpoint failed", store=self._name, error=type(error).__name__)
        finally:
            self._checkpoint = None

    async def open(self) -> None:
        """Connect, switch to WAL and migrate (or, without auto_migrate, check that the
        schema is the one this release needs); a no-op when already open."""
        await asyncio.get_running_loop().run_in_executor(self._thread, self._open)

    def _open(self) -> None:
        if self._connection is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are spelled out (BEGIN IMMEDIATE).
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            enable_wal(connection, deadline=time.monotonic() + self._busy_timeout_ms / 1000)
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
            if self._auto_migrate:
                migrate(connection)
            else:
                check_schema(connection)
            if self._inline_writes:
                self._inline = _inline_connection(self.path)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    async def close(self) -> None:
        """Idempotent (a store and whoever opened it may both close it); not reopened."""
        if self._closed:
            return
        self._closed = True

        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)

        def shut() -> None:
            if self._inline is not None:
                self._inline.close()
                self._inline = None
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)


@dataclass
class InlineStats:
    """What ``write_now`` did and how the checkpoints went, for tests and diagnosis."""

    commits: int = 0
    busy: int = 0
    checkpoints: int = 0
    failed_checkpoints: int = 0


# BUSY: another connection writes. LOCKED: a conflict inside this process's shared cache.
_LOCK_CONFLICTS: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def _is_lock_conflict(error: sqlite3.OperationalError) -> bool:
    # Python 3.11+ reports extended codes (SQLITE_BUSY_SNAPSHOT is 517): the primary
    # code is the low byte.
    return (error.sqlite_errorcode & 0xFF) in _LOCK_CONFLICTS


def _inline_connection(path: Path) -> sqlite3.Connection:
    """The loop's connection: opened on the database's thread, used only from the
    loop (hence check_same_thread=False; never from two threads at once). timeout=0:
    a held lock is answered at once, never waited for; wal_autocheckpoint=0: no
    commit of its own ever turns into a checkpoint."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
    try:
        connection.execute("PRAGMA busy_timeout = 0")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA wal_autocheckpoint = 0")
    except BaseException:
        connection.close()
        raise
    return connection


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back when the body or the commit fails.

    IMMEDIATE takes the write lock up front: two writers that both began reading
    would otherwise deadlock when both try to write. A failed COMMIT (busy past the
    timeout) leaves SQLite's transaction open; rolling it back keeps the connection
    usable for the next caller.
    """
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        # Guarded: a failed statement may already have ended the transaction, and a
        # second error here would hide the first.
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def enable_wal(connection: sqlite3.Connection, *, deadline: float) -> None:
    """WAL mode, persistent in the file. Switching a fresh file takes an exclusive
    lock, and SQLite answers "locked" at once, without its busy handler, when
    another connection is switching it at the same moment: retry until the deadline."""
    while True:
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if str(mode).lower() != "wal":
            raise RuntimeError(f"SQLite database: journal_mode is {mode!r}, WAL is required")
        return


def split_statements(script: str) -> list[str]:
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
        raise RuntimeError("database migration ends with an incomplete SQL statement")
    return statements


def schema_version(connection: sqlite3.Connection) -> int:
    """The database's schema version: 0 for a file no release has migrated yet."""
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    return int(connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def check_schema(connection: sqlite3.Connection) -> None:
    """Refuse a schema older or newer than this release's (``proxy.db.schema``)."""
    check_version(schema_version(connection), latest_version("sqlite"), migrating=False)


def migrate(connection: sqlite3.Connection) -> list[str]:
    """Apply every pending migration, each recorded in ``schema_version``, in one
    transaction; the names applied. The write lock comes first: two connections
    opening a fresh file at once must not both see version 0 and both create the
    tables. A schema newer than this release's is refused, nothing changed."""
    applied: list[str] = []
    with transaction(connection):
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        current = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        check_version(int(current), latest_version("sqlite"), migrating=True)
        for migration in migrations("sqlite"):
            if migration.version <= current:
                continue
            for statement in split_statements(migration.sql):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_text(datetime.now(UTC))),
            )
            applied.append(migration.name)
    return applied
