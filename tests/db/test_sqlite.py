"""The SQLite plumbing: a connection on its own thread, WAL, transactions, UTC text times."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import pytest

from proxy.db.sqlite import SqliteDatabase, _is_lock_conflict, from_text, to_text, transaction


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 2, 1, tzinfo=UTC), "2026-02-01T00:00:00.000000Z"),
        (
            datetime(2026, 2, 28, 21, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
            "2026-03-01T00:00:00.000005Z",
        ),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
        # East of UTC across a day and year boundary; a whole second keeps its six zeros.
        (
            datetime(2027, 1, 1, 1, 30, 0, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-12-31T20:00:00.000000Z",
        ),
    ],
)
def test_times_are_utc_text_that_sorts_like_time(moment: datetime, text: str) -> None:
    assert to_text(moment) == text
    assert from_text(text) == moment


async def test_work_runs_on_the_databases_own_thread_in_wal_mode(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "nested" / "db.sqlite3", name="probe")
    await database.open()
    await database.open()  # a second open is a no-op
    try:
        name = await database.run(lambda _: threading.current_thread().name)
        assert name.startswith("probe-sqlite")
        assert name != threading.current_thread().name
        assert await database.run(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    finally:
        await database.close()
        await database.close()  # idempotent


async def test_work_before_open_is_refused(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3", name="probe")
    try:
        with pytest.raises(RuntimeError, match="SQLite probe store is not open"):
            await database.run(lambda c: c.execute("SELECT 1"))
    finally:
        await database.close()


@pytest.mark.parametrize("fail_at", ["body", "commit"])
def test_a_failed_transaction_is_rolled_back_and_the_connection_stays_usable(
    tmp_path: Path, fail_at: str
) -> None:
    connection = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        connection.execute("CREATE TABLE t (x INTEGER NOT NULL)")
        if fail_at == "commit":
            # A deferred foreign key fails at COMMIT, not at the INSERT.
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
            connection.execute("CREATE TABLE c (p INTEGER REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED)")
        failing = "INSERT INTO t VALUES (NULL)" if fail_at == "body" else "INSERT INTO c VALUES (42)"

        def write() -> None:
            with transaction(connection):
                connection.execute("INSERT INTO t VALUES (1)")
                connection.execute(failing)

        with pytest.raises(sqlite3.IntegrityError):
            write()
        assert not connection.in_transaction
        assert connection.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
        with transaction(connection):
            connection.execute("INSERT INTO t VALUES (2)")
        assert connection.execute("SELECT x FROM t").fetchall() == [(2,)]
    finally:
        connection.close()


# Inline writes: a short commit on the event loop itself, never a wait there.


async def _inline_database(path: Path, *, checkpoint_every: int = 256) -> SqliteDatabase:
    database = SqliteDatabase(path, name="probe", checkpoint_every=checkpoint_every)
    await database.open()
    await database.run(lambda c: c.execute("CREATE TABLE t (x INTEGER NOT NULL)"))
    return database


def _insert(value: int | None) -> Callable[[sqlite3.Connection], None]:
    def statements(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO t VALUES (?)", (value,))

    return statements


async def _values(database: SqliteDatabase) -> list[int]:
    return [x for (x,) in await database.run(lambda c: c.execute("SELECT x FROM t ORDER BY x").fetchall())]


async def test_an_inline_write_commits_on_the_calling_thread(tmp_path: Path) -> None:
    database = await _inline_database(tmp_path / "db.sqlite3")
    seen: list[str] = []
    try:

        def statements(connection: sqlite3.Connection) -> None:
            seen.append(threading.current_thread().name)
            connection.execute("INSERT INTO t VALUES (7)")

        assert database.write_now(statements) is True
        assert seen == [threading.current_thread().name]
        assert await _values(database) == [7]  # committed: the thread's connection sees it
        assert database.inline_stats.commits == 1
    finally:
        await database.close()


async def test_an_inline_write_never_waits_for_a_held_lock(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = await _inline_database(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert database.write_now(_insert(1)) is False
        assert time.monotonic() - started < 1.0  # busy_timeout is 5 s on the thread's connection
        assert database.inline_stats.busy == 1
        holder.execute("COMMIT")
        assert await _values(database) == []  # nothing half-written
        assert database.write_now(_insert(2)) is True
        assert await _values(database) == [2]
    finally:
        holder.close()
        await database.close()


async def test_a_failed_inline_write_is_rolled_back_and_raised(tmp_path: Path) -> None:
    database = await _inline_database(tmp_path / "db.sqlite3")
    try:

        def half(connection: sqlite3.Connection) -> None:
            connection.execute("INSERT INTO t VALUES (1)")
            connection.execute("INSERT INTO t VALUES (NULL)")

        with pytest.raises(sqlite3.IntegrityError):
            database.write_now(half)
        assert database.write_now(_insert(3)) is True
        assert await _values(database) == [3]
    finally:
        await database.close()


async def test_inline_commits_are_checkpointed_on_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    database = await _inline_database(path, checkpoint_every=3)
    try:
        for value in range(7):
            assert database.write_now(_insert(value)) is True
            await asyncio.sleep(0)  # let a scheduled checkpoint run on the thread
            await database.run(lambda _: None)
        assert database.inline_stats.checkpoints == 2
        assert database.inline_stats.failed_checkpoints == 0
    finally:
        await database.close()
    # Everything written is in the file for a fresh connection.
    reader = sqlite3.connect(path)
    try:
        assert reader.execute("SELECT COUNT(*) FROM t").fetchone() == (7,)
    finally:
        reader.close()


def test_a_checkpoint_interval_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checkpoint_every must be at least 1"):
        SqliteDatabase(tmp_path / "db.sqlite3", checkpoint_every=0)


@pytest.mark.parametrize(
    ("synchronous", "opened", "message"),
    [
        (
            "FULL",
            True,
            "inline writes need synchronous=NORMAL",
        ),  # its fsync per commit never runs on the loop
        ("NORMAL", False, "store is not open"),
    ],
)
async def test_an_inline_write_needs_an_open_inline_connection(
    tmp_path: Path, synchronous: Literal["NORMAL", "FULL"], opened: bool, message: str
) -> None:
    database = SqliteDatabase(tmp_path / "db.sqlite3", name="probe", synchronous=synchronous)
    try:
        if opened:
            await database.open()
        with pytest.raises(RuntimeError, match=message):
            database.write_now(_insert(1))
    finally:
        await database.close()


@pytest.mark.parametrize(
    ("code", "conflict"),
    [
        (sqlite3.SQLITE_BUSY, True),
        (sqlite3.SQLITE_LOCKED, True),
        (517, True),  # SQLITE_BUSY_SNAPSHOT: an extended code of BUSY
        (261, True),  # SQLITE_BUSY_RECOVERY
        (sqlite3.SQLITE_IOERR, False),
        (sqlite3.SQLITE_FULL, False),
    ],
)
def test_extended_busy_codes_are_lock_conflicts(code: int, conflict: bool) -> None:
    error = sqlite3.OperationalError("probe")
    error.sqlite_errorcode = code
    assert _is_lock_conflict(error) is conflict


async def test_a_lock_conflict_after_begin_is_rolled_back_and_left_to_the_thread(tmp_path: Path) -> None:
    database = await _inline_database(tmp_path / "db.sqlite3")
    try:

        def conflicted(connection: sqlite3.Connection) -> None:
            connection.execute("INSERT INTO t VALUES (1)")
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = sqlite3.SQLITE_BUSY
            raise error

        assert database.write_now(conflicted) is False
        assert database.inline_stats.busy == 1
        assert await _values(database) == []
        assert database.write_now(_insert(2)) is True
    finally:
        await database.close()
