"""One test database seen from outside the stores: open its stores, run SQL, inspect it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Coroutine
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from proxy.ledger.postgres import PostgresStore
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from proxy.state.postgres import PostgresStateStore
from proxy.state.sqlite import SqliteStateStore
from proxy.state.store import StateStore

__all__ = ["Database", "write_behind_another_writer"]


# A shared database requires the fleet's keys (proxy/keys.py): fixed test keys.
FLEET_KEYS = {
    "PROXY_TOKEN_KEY": "test-token-key-" + "t" * 32,
    "PROXY_CANARY_KEY": "test-canary-key-" + "c" * 32,
}


@dataclass(frozen=True)
class Database:
    """A SQLite file (``path``) or a PostgreSQL schema (``dsn``); nothing created yet."""

    backend: str
    path: Path | None = None
    dsn: str | None = None

    def ledger_store(self) -> LedgerStore:
        return SqliteStore(self.path) if self.path else PostgresStore(self._dsn())

    def state_store(self) -> StateStore:
        return SqliteStateStore(self.path) if self.path else PostgresStateStore(self._dsn())

    def environ(self, **extra: str) -> dict[str, str]:
        """Environment variables that point ``load_settings`` at this database."""
        if self.path:
            return {"PROXY_DATA_DIR": str(self.path.parent), **extra}
        return {"PROXY_DATABASE_DSN": self._dsn(), **FLEET_KEYS, **extra}

    def _dsn(self) -> str:
        assert self.dsn is not None
        return self.dsn

    def execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """``sql`` on a connection of its own, committed; its rows (if any)."""
        if self.path:
            with closing(sqlite3.connect(self.path)) as connection, connection:
                return connection.execute(sql, parameters).fetchall()
        with psycopg.connect(self._dsn(), autocommit=True) as server:
            cursor = server.execute(sql.replace("?", "%s"), parameters)
            return cursor.fetchall() if cursor.description else []

    def versions(self) -> list[tuple[int, str]]:
        return [
            (int(v), str(n)) for v, n in self.execute("SELECT version, name FROM schema_version ORDER BY 1")
        ]

    def columns(self) -> dict[str, list[str]]:
        """Every table's column names, in table order."""
        if self.path:
            tables = [row[0] for row in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {
                table: [row[1] for row in self.execute(f"PRAGMA table_info({table})")] for table in tables
            }
        found: dict[str, list[str]] = {}
        for table, column in self.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ):
            found.setdefault(table, []).append(column)
        return found


async def write_behind_another_writer(path: Path, write: Coroutine[Any, Any, None]) -> None:
    """Run ``write`` while another connection (another worker) holds ``path``'s write
    lock: it must still be waiting, with the loop free, after 0.2 s, and land once
    the lock is released."""
    other_worker = sqlite3.connect(path, isolation_level=None)
    try:
        other_worker.execute("BEGIN IMMEDIATE")
        writing = asyncio.create_task(write)
        await asyncio.sleep(0.2)
        assert not writing.done()  # waiting for the lock on the store's thread
        other_worker.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=5)
    finally:
        other_worker.close()
