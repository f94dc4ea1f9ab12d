"""The PostgreSQL state store: the ledger's database, its own connection.

One connection, used by one operation at a time (an ``asyncio.Lock``): stage
changes are rare and shadow results are written off the response path, so a
pool would buy nothing, and two operations interleaving their transactions on
one connection would corrupt both. A failed operation drops the connection (its
state is unknown after a server restart or a cancelled statement) and the next
operation connects afresh, so a database restart costs the calls made during
the outage, not the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import psycopg

from proxy.db.postgres import connect, migrate
from proxy.stages.shadow import ShadowResult
from proxy.state.records import StageChange, StageOverride, as_utc
from proxy.state.rows import (
    SHADOW_READ,
    SHADOW_WRITE,
    check_change,
    check_limit,
    product_column,
    product_value,
    shadow_from_row,
    shadow_row,
)

__all__ = ["PostgresStateStore"]

_UPSERT_OVERRIDE: Final = (
    "INSERT INTO stage_override (tenant, product, stage, at, actor) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (tenant, product) DO UPDATE "
    "SET stage = excluded.stage, at = excluded.at, actor = excluded.actor"
)
_INSERT_AUDIT: Final = (
    "INSERT INTO stage_audit (at, actor, tenant, product, from_stage, to_stage) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)
_INSERT_SHADOW: Final = (
    f"INSERT INTO shadow_result ({SHADOW_WRITE}) "  # noqa: S608 (fixed text, bound values)
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_AUDIT_COLUMNS: Final = "at, actor, tenant, product, from_stage, to_stage"
# Byte order, as SQLite sorts: the database's collation must not reorder tenants.
_OVERRIDES: Final = (
    "SELECT tenant, product, stage, at, actor FROM stage_override "
    'ORDER BY tenant COLLATE "C", product COLLATE "C"'
)


class PostgresStateStore:
    def __init__(self, dsn: str, *, connect_timeout_s: float = 5.0) -> None:
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self._opened = False
        self._closed = False

    @property
    def dsn(self) -> str:
        return self._dsn

    async def open(self) -> None:
        async with self._lock:
            if self._opened:
                return
            connection = await connect(self._dsn, connect_timeout_s=self._connect_timeout_s)
            try:
                await migrate(connection)
            except BaseException:
                await connection.close()
                raise
            self._connection, self._opened = connection, True

    async def close(self) -> None:
        """Idempotent. Does not wait for the lock: a shutdown must not hang behind a
        stuck statement, which fails instead when its connection closes."""
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._lock:
            if self._closed or not self._opened:
                raise RuntimeError("the PostgreSQL state store is not open")
            if self._connection is None or self._connection.closed or self._connection.broken:
                self._connection = await connect(self._dsn, connect_timeout_s=self._connect_timeout_s)
            connection = self._connection
            try:
                yield connection
            except BaseException:
                self._connection = None
                await connection.close()
                raise

    async def stage_overrides(self) -> list[StageOverride]:
        async with self._use() as connection:
            cursor = await connection.execute(_OVERRIDES)
            return [
                StageOverride(tenant, product_value(product), stage, at.astimezone(UTC), actor)
                for tenant, product, stage, at, actor in await cursor.fetchall()
            ]

    async def set_stage(self, change: StageChange) -> None:
        check_change(change)
        product = product_column(change.product)
        async with self._use() as connection, connection.transaction():
            await connection.execute(
                _UPSERT_OVERRIDE, (change.tenant, product, change.to_stage, change.at, change.actor)
            )
            await connection.execute(
                _INSERT_AUDIT,
                (change.at, change.actor, change.tenant, product, change.from_stage, change.to_stage),
            )

    async def stage_audit(self, *, tenant: str | None = None, limit: int = 1000) -> list[StageChange]:
        where, parameters = ("", ()) if tenant is None else ("WHERE tenant = %s", (tenant,))
        query = f"SELECT {_AUDIT_COLUMNS} FROM stage_audit {where} ORDER BY at DESC, id DESC LIMIT %s"  # noqa: S608
        async with self._use() as connection:
            cursor = await connection.execute(query, (*parameters, check_limit(limit)))
            return [
                StageChange(at.astimezone(UTC), actor, t, product_value(p), from_stage, to_stage)
                for at, actor, t, p, from_stage, to_stage in await cursor.fetchall()
            ]

    async def save_shadow(self, results: Sequence[ShadowResult]) -> None:
        rows = [shadow_row(result) for result in results]
        if not rows:
            return
        async with self._use() as connection, connection.transaction(), connection.cursor() as cursor:
            # executemany pipelines the inserts: a batch costs about one round trip.
            await cursor.executemany(_INSERT_SHADOW, rows)

    async def shadow_results(
        self, tenant: str, *, since: datetime, until: datetime, product: str | None = None
    ) -> list[ShadowResult]:
        where = "tenant = %s AND at >= %s AND at < %s"
        parameters: tuple[Any, ...] = (tenant, as_utc(since, "since"), as_utc(until, "until"))
        if product is not None:
            where, parameters = f"{where} AND product = %s", (*parameters, product)
        # The JSON as text: decoded by the same codec as on SQLite, whatever psycopg's JSON loader.
        columns = SHADOW_READ.format("comparison::text")
        query = f"SELECT {columns} FROM shadow_result WHERE {where} ORDER BY at, id"  # noqa: S608
        async with self._use() as connection:
            cursor = await connection.execute(query, parameters)
            return [shadow_from_row((row[0].astimezone(UTC), *row[1:])) for row in await cursor.fetchall()]

    async def prune_shadow(self, before: datetime) -> int:
        cutoff = as_utc(before, "before")
        async with self._use() as connection:
            cursor = await connection.execute("DELETE FROM shadow_result WHERE at < %s", (cutoff,))
            return cursor.rowcount
