"""The SQLite plumbing: a connection on its own thread, WAL, transactions, UTC text times."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from proxy.db.sqlite import SqliteDatabase, from_text, to_text, transaction


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 2, 1, tzinfo=UTC), "2026-02-01T00:00:00.000000Z"),
        (
            datetime(2026, 2, 28, 21, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
            "2026-03-01T00:00:00.000005Z",
        ),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
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
