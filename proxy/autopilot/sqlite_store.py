"""The SQLite autopilot store: the proxy's file, its own connection and thread."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from proxy.autopilot import sql
from proxy.autopilot.sql_store import SqlAutopilotStore
from proxy.db.sqlite import SqliteDatabase, from_text, to_text, transaction
from proxy.state.records import as_utc

__all__ = ["SqliteAutopilotStore"]


class SqliteAutopilotStore(SqlAutopilotStore):
    duplicate_error = sqlite3.IntegrityError
    plans_query = f"SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan ORDER BY tenant, product"  # noqa: S608

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000, auto_migrate: bool = True) -> None:
        self._database = SqliteDatabase(
            path, busy_timeout_ms=busy_timeout_ms, name="autopilot", auto_migrate=auto_migrate
        )

    async def open(self) -> None:
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    @staticmethod
    def _time(moment: datetime) -> str:
        return to_text(as_utc(moment, "a time"))

    @staticmethod
    def _read_time(value: Any) -> datetime:
        return from_text(value)

    async def _write(self, statement: str, parameters: tuple[Any, ...]) -> int:
        def write(connection: sqlite3.Connection) -> int:
            with transaction(connection):
                return connection.execute(statement, parameters).rowcount

        return await self._database.run(write)

    async def _read(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await self._database.run(
            lambda connection: connection.execute(statement, parameters).fetchall()
        )

    async def acquire_lease(self, name: str, holder: str, *, now: datetime, ttl_s: float) -> bool:
        expires = self._time(now + timedelta(seconds=ttl_s))
        current = self._time(now)

        def take(connection: sqlite3.Connection) -> bool:
            # BEGIN IMMEDIATE: the whole check-and-take holds the file's write lock.
            with transaction(connection):
                renewed = connection.execute(
                    sql.RENEW_LEASE, (holder, expires, name, holder, current)
                ).rowcount
                if renewed:
                    return True
                return connection.execute(sql.TAKE_LEASE, (name, holder, expires)).rowcount > 0

        return await self._database.run(take)
