"""The PostgreSQL autopilot store: the proxy's database, through the process's pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from proxy.autopilot import sql
from proxy.autopilot.figures import LedgerRow
from proxy.autopilot.records import DecisionRecord, LegacyVolume, PlanRecord
from proxy.autopilot_plan import PlanStatus
from proxy.db.pool import PostgresPool
from proxy.state.records import as_utc
from proxy.state.rows import check_limit, product_column

__all__ = ["PostgresAutopilotStore"]


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


def _time(moment: datetime) -> datetime:
    return as_utc(moment, "a time")


def _read_time(value: Any) -> datetime:
    assert isinstance(value, datetime)
    return value.astimezone(UTC)


# JSON columns read as text: decoded the same way as SQLite's.
_DECISION_READ = sql.DECISION_COLUMNS.replace("figures", "figures::text")


class PostgresAutopilotStore:
    """On ``database``: the runtime's shared pool, or a DSN for a pool of its own (tests)."""

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

    async def _write(self, statement: str, parameters: tuple[Any, ...]) -> int:
        async with self._use() as connection, connection.transaction():
            cursor = await connection.execute(_pg(statement), parameters)
            return cursor.rowcount

    async def _read(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._use() as connection:
            cursor = await connection.execute(_pg(statement), parameters)
            return await cursor.fetchall()

    async def put_plan(self, plan: PlanRecord) -> None:
        await self._write(sql.UPSERT_PLAN, sql.plan_row(plan, _time))

    async def plan(self, tenant: str, product: str | None) -> PlanRecord | None:
        rows = await self._read(
            f"SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan WHERE tenant = ? AND product = ?",  # noqa: S608
            (tenant, product_column(product)),
        )
        return sql.plan_from_row(rows[0], _read_time) if rows else None

    async def plans(self) -> list[PlanRecord]:
        rows = await self._read(
            f'SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan ORDER BY tenant COLLATE "C", product COLLATE "C"',  # noqa: S608
            (),
        )
        return [sql.plan_from_row(row, _read_time) for row in rows]

    async def delete_plan(self, tenant: str, product: str | None) -> bool:
        deleted = await self._write(
            "DELETE FROM autopilot_plan WHERE tenant = ? AND product = ?", (tenant, product_column(product))
        )
        return deleted > 0

    async def set_status(
        self, tenant: str, product: str | None, status: PlanStatus, *, at: datetime, actor: str
    ) -> bool:
        changed = await self._write(
            sql.SET_STATUS,
            (status, _time(at), actor, tenant, product_column(product)),
        )
        return changed > 0

    async def set_baseline(self, tenant: str, product: str | None, p99_ms: float | None) -> None:
        await self._write(
            "UPDATE autopilot_plan SET baseline_p99_ms = ? WHERE tenant = ? AND product = ?",
            (p99_ms, tenant, product_column(product)),
        )

    async def record_decision(self, decision: DecisionRecord) -> bool:
        try:
            await self._write(sql.INSERT_DECISION, sql.decision_row(decision, _time))
        except psycopg.errors.UniqueViolation:
            return False
        return True

    async def forget_decision(self, decision: DecisionRecord) -> None:
        await self._write(
            sql.FORGET_DECISION,
            (
                decision.tenant,
                product_column(decision.product),
                decision.from_stage,
                _time(decision.step_started),
                decision.decision,
            ),
        )

    async def decisions(
        self, tenant: str, *, product: str | None = None, limit: int = 100
    ) -> list[DecisionRecord]:
        where, parameters = "tenant = ?", [tenant]
        if product is not None:
            where, parameters = f"{where} AND product = ?", [*parameters, product]
        rows = await self._read(
            f"SELECT {_DECISION_READ} FROM autopilot_decision WHERE {where} "  # noqa: S608
            "ORDER BY at DESC, id DESC LIMIT ?",
            (*parameters, check_limit(limit)),
        )
        return [sql.decision_from_row(row, _read_time) for row in rows]

    async def step_rows(
        self, tenant: str, product: str | None, stage: str, *, since: datetime, until: datetime
    ) -> list[LedgerRow]:
        parameters: tuple[Any, ...] = (tenant, stage, _time(since), _time(until))
        if product is not None:
            parameters = (*parameters, product)
        rows = await self._read(sql.step_query(product), parameters)
        return [LedgerRow(side, int(status), fallback, float(ms)) for side, status, fallback, ms in rows]

    async def legacy_volume(self, *, since: datetime, until: datetime) -> list[LegacyVolume]:
        rows = await self._read(sql.LEGACY_VOLUME, (_time(since), _time(until)))
        return [
            LegacyVolume(tenant, int(count), _read_time(last) if last else None)
            for tenant, count, last in rows
        ]

    async def acquire_lease(self, name: str, holder: str, *, now: datetime, ttl_s: float) -> bool:
        expires = _time(now + timedelta(seconds=ttl_s))
        async with self._use() as connection, connection.transaction():
            # Row locks serialise two replicas renewing at once; the loser re-reads the
            # winner's row, finds it held and unexpired, and changes nothing.
            cursor = await connection.execute(
                _pg(sql.RENEW_LEASE), (holder, expires, name, holder, _time(now))
            )
            if cursor.rowcount:
                return True
            cursor = await connection.execute(_pg(sql.TAKE_LEASE), (name, holder, expires))
            return cursor.rowcount > 0

    async def release_lease(self, name: str, holder: str) -> None:
        await self._write(sql.RELEASE_LEASE, (name, holder))
