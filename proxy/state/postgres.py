"""The PostgreSQL state store: the ledger's database, through the process's pool.

Each operation borrows a connection from the pool the ledger shares
(``proxy.db.pool``), so a stage poll, a shadow batch, a recorder batch and an
admin read run side by side instead of queueing behind one connection and its
lock. A failed operation's connection is closed and replaced by the pool (its
state is unknown after a server restart or a cancelled statement), so a database
restart costs the calls made during the outage, not the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import psycopg

from proxy.db.pool import PostgresPool, store_pool
from proxy.state.corpus import CorpusEntry
from proxy.state.records import ConfigReload, ShadowResult, StageChange, StageOverride, as_utc
from proxy.state.rows import (
    RECORDED_WRITE,
    SHADOW_READ,
    SHADOW_WRITE,
    check_change,
    check_limit,
    product_column,
    product_value,
    recorded_row,
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
_INSERT_RECORDED: Final = f"INSERT INTO recorded_exchange ({RECORDED_WRITE}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
_AUDIT_COLUMNS: Final = "at, actor, tenant, product, from_stage, to_stage"
_INSERT_RELOAD: Final = (
    "INSERT INTO config_reload (at, actor, trigger, outcome, version, detail) "
    "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
)
_RELOADS: Final = (
    "SELECT id, at, actor, trigger, outcome, version, detail FROM config_reload ORDER BY id DESC LIMIT %s"
)
_GENERATION: Final = "SELECT COALESCE(MAX(id), 0) FROM config_reload WHERE outcome = 'ok'"
# Byte order, as SQLite sorts: the database's collation must not reorder tenants.
_OVERRIDES: Final = (
    "SELECT tenant, product, stage, at, actor FROM stage_override "
    'ORDER BY tenant COLLATE "C", product COLLATE "C"'
)


class PostgresStateStore:
    """On ``database``: a shared pool (the runtime's), or a DSN for a pool of its own
    that the store closes with itself (tests); ``owns_pool`` hands a given pool over."""

    def __init__(
        self,
        database: str | PostgresPool,
        *,
        connect_timeout_s: float = 5.0,
        owns_pool: bool | None = None,
    ) -> None:
        self._pool, self._owns_pool = store_pool(
            database, connect_timeout_s=connect_timeout_s, owns_pool=owns_pool
        )
        self._opened = False
        self._closed = False

    @property
    def dsn(self) -> str:
        return self._pool.dsn

    @property
    def pool(self) -> PostgresPool:
        return self._pool

    async def open(self) -> None:
        await self._pool.open()
        self._opened = True

    async def close(self) -> None:
        """Idempotent; a shared pool stays open for the other stores (its owner closes it).
        Waits for no operation: one stuck on a statement fails when its pool closes."""
        self._closed = True
        if self._owns_pool:
            await self._pool.close()

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._closed or not self._opened:
            raise RuntimeError("the PostgreSQL state store is not open")
        async with self._pool.connection() as connection:
            yield connection

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

    async def record_reload(self, reload: ConfigReload) -> int:
        row = (reload.at, reload.actor, reload.trigger, reload.outcome, reload.version, reload.detail)
        async with self._use() as connection, connection.transaction():
            cursor = await connection.execute(_INSERT_RELOAD, row)
            found = await cursor.fetchone()
        return int(found[0]) if found is not None else 0

    async def config_generation(self) -> int:
        async with self._use() as connection:
            cursor = await connection.execute(_GENERATION)
            found = await cursor.fetchone()
        return int(found[0]) if found is not None else 0

    async def reload_audit(self, *, limit: int = 20) -> list[ConfigReload]:
        async with self._use() as connection:
            cursor = await connection.execute(_RELOADS, (check_limit(limit),))
            return [
                ConfigReload(at.astimezone(UTC), actor, trigger, outcome, version, detail, int(generation))
                for generation, at, actor, trigger, outcome, version, detail in await cursor.fetchall()
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
            rows = await cursor.fetchall()
        # Decoding every comparison of a long window is CPU work: off the loop, as on SQLite.
        return await asyncio.to_thread(
            lambda: [shadow_from_row((row[0].astimezone(UTC), *row[1:])) for row in rows]
        )

    async def prune_shadow(self, before: datetime) -> int:
        cutoff = as_utc(before, "before")
        async with self._use() as connection:
            cursor = await connection.execute("DELETE FROM shadow_result WHERE at < %s", (cutoff,))
            return cursor.rowcount

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None:
        rows = [recorded_row(entry) for entry in entries]
        if not rows:
            return
        async with self._use() as connection, connection.transaction(), connection.cursor() as cursor:
            await cursor.executemany(_INSERT_RECORDED, rows)

    async def recorded_lines(
        self, tenant: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, str]]:
        where, parameters = "tenant = %s", list[Any]([tenant])
        if since is not None:
            where, parameters = f"{where} AND at >= %s", [*parameters, as_utc(since, "since")]
        if until is not None:
            where, parameters = f"{where} AND at < %s", [*parameters, as_utc(until, "until")]
        query = f"SELECT id, line FROM recorded_exchange WHERE {where} ORDER BY at, id"  # noqa: S608
        async with self._use() as connection:
            cursor = await connection.execute(query, parameters)
            return [(int(row_id), str(line)) for row_id, line in await cursor.fetchall()]

    async def prune_recorded(self, before: datetime) -> int:
        cutoff = as_utc(before, "before")
        async with self._use() as connection:
            cursor = await connection.execute("DELETE FROM recorded_exchange WHERE at < %s", (cutoff,))
            return cursor.rowcount
