"""``pdt-proxy migrate`` and serve's start-up check: the schema brought to (or checked
against) this release's version, outside any store.

``migrate_database`` applies the pending migrations and reports the version; two
running at once are safe (PostgreSQL: an advisory lock; SQLite: the write lock
taken before reading the version), and both refuse a schema newer than this
release knows. ``prepare_database`` is what ``serve`` runs before it listens:
migrate when ``database.auto_migrate`` is on, else only check, so a replica
never starts on a schema it cannot serve.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass

from proxy.config import Settings
from proxy.db import postgres
from proxy.db import sqlite as sqlite_db
from proxy.db.location import sqlite_path
from proxy.db.migrations import Backend

__all__ = ["MigrationRun", "migrate_database", "prepare_database"]


@dataclass(frozen=True, slots=True)
class MigrationRun:
    backend: Backend
    version: int
    applied: tuple[str, ...]

    def describe(self) -> str:
        done = f"applied {', '.join(self.applied)}" if self.applied else "nothing to apply"
        return f"database ({self.backend}) at schema version {self.version}: {done}"


async def migrate_database(settings: Settings) -> MigrationRun:
    return await _run(settings, migrating=True)


async def prepare_database(settings: Settings) -> MigrationRun:
    return await _run(settings, migrating=settings.database.auto_migrate)


async def _run(settings: Settings, *, migrating: bool) -> MigrationRun:
    database = settings.database
    if database.dsn:
        connection = await postgres.connect(database.dsn, connect_timeout_s=database.connect_timeout_s)
        async with connection:
            applied = await postgres.migrate(connection) if migrating else []
            if not migrating:
                await postgres.check_schema(connection)
            version = await postgres.schema_version(connection)
        return MigrationRun("postgres", version, tuple(applied))
    return await asyncio.to_thread(_sqlite, settings, migrating)


def _sqlite(settings: Settings, migrating: bool) -> MigrationRun:
    path = sqlite_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    busy_s = settings.ledger.sqlite_busy_timeout_ms / 1000
    with closing(sqlite3.connect(path, isolation_level=None, timeout=busy_s)) as connection:
        # WAL before the tables exist, as every store opens the file: the mode is persistent.
        sqlite_db.enable_wal(connection, deadline=time.monotonic() + busy_s)
        applied = sqlite_db.migrate(connection) if migrating else []
        if not migrating:
            sqlite_db.check_schema(connection)
        return MigrationRun("sqlite", sqlite_db.schema_version(connection), tuple(applied))
