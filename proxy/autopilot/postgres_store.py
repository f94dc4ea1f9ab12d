"""The PostgreSQL autopilot store: the proxy's database, through the process's pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from proxy.autopilot import sql
from proxy.autopilot.sql_store import SqlAutopilotStore
from proxy.db.pool import PostgresPool
from proxy.state.records import as_utc

__all__ = ["PostgresAutopilotStore"]


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


class PostgresAutopilotStore(SqlAutopilotStore):
    """On ``database``: the runtime's shared pool, or a DSN for a pool of its own (tests)."""

    duplicate_error = psycopg.errors.UniqueViolation
    plans_query = (
        f'SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan ORDER BY tenant COLLATE "C", product COLLATE "C"'  # noqa: S608
    )
    # JSON columns read as text: decoded the same way as SQLite's.
    decision_columns = sql.DECISION_COLUMNS.replace("figures", "figures::text")

    def __init__(self, database: str | PostgresPool, *, owns_pool: bool | None = None) -> None:
        self._owns_pool = isinstance(database, str) if owns_pool is None else owns_pool
        self._pool = PostgresPool(database) if isinstance(database, str) else database

    async def open(self) -> None:
        await self._pool.open()

    async def close(self) -> None:
        if self._owns_pool:
            await self._pool.close()

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._pool.connection() as connection:
            yield connection

    @staticmethod
    def _time(moment: datetime) -> datetime:
        return as_utc(moment, "a time")

    @staticmethod
    def _read_time(value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value.astimezone(UTC)

    async def _write(self, statement: str, parameters: tuple[Any, ...]) -> int:
        async with self._use() as connection, connection.transaction():
            cursor = await connection.execute(_pg(statement), parameters)
            return cursor.rowcount

    async def _read(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._use() as connection:
            cursor = await connection.execute(_pg(statement), parameters)
            return await cursor.fetchall()

    async def acquire_lease(self, name: str, holder: str, *, now: datetime, ttl_s: float) -> bool:
        expires = self._time(now + timedelta(seconds=ttl_s))
        async with self._use() as connection, connection.transaction():
            # Row locks serialise two replicas renewing at once; the loser re-reads the
            # winner's row, finds it held and unexpired, and changes nothing.
            cursor = await connection.execute(
                _pg(sql.RENEW_LEASE), (holder, expires, name, holder, self._time(now))
            )
            if cursor.rowcount:
                return True
            cursor = await connection.execute(_pg(sql.TAKE_LEASE), (name, holder, expires))
            return cursor.rowcount > 0
