"""The SQLite autopilot store: the proxy's file, its own connection and thread."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from proxy.autopilot import sql
from proxy.autopilot.figures import LedgerRow
from proxy.autopilot.records import DecisionRecord, LegacyVolume, PlanRecord
from proxy.autopilot_plan import PlanStatus
from proxy.db.sqlite import SqliteDatabase, from_text, to_text, transaction
from proxy.state.records import as_utc
from proxy.state.rows import check_limit, product_column

__all__ = ["SqliteAutopilotStore"]


def _text(moment: datetime) -> str:
    return to_text(as_utc(moment, "a time"))


class SqliteAutopilotStore:
    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000, auto_migrate: bool = True) -> None:
        self._database = SqliteDatabase(
            path, busy_timeout_ms=busy_timeout_ms, name="autopilot", auto_migrate=auto_migrate
        )

    async def open(self) -> None:
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    async def _run_write(self, statement: str, parameters: tuple[Any, ...]) -> int:
        def write(connection: sqlite3.Connection) -> int:
            with transaction(connection):
                return connection.execute(statement, parameters).rowcount

        return await self._database.run(write)

    async def _read(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return await self._database.run(
            lambda connection: connection.execute(statement, parameters).fetchall()
        )

    async def put_plan(self, plan: PlanRecord) -> None:
        await self._run_write(sql.UPSERT_PLAN, sql.plan_row(plan, _text))

    async def plan(self, tenant: str, product: str | None) -> PlanRecord | None:
        rows = await self._read(
            f"SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan WHERE tenant = ? AND product = ?",  # noqa: S608
            (tenant, product_column(product)),
        )
        return sql.plan_from_row(rows[0], from_text) if rows else None

    async def plans(self) -> list[PlanRecord]:
        rows = await self._read(f"SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan ORDER BY tenant, product", ())  # noqa: S608
        return [sql.plan_from_row(row, from_text) for row in rows]

    async def delete_plan(self, tenant: str, product: str | None) -> bool:
        deleted = await self._run_write(
            "DELETE FROM autopilot_plan WHERE tenant = ? AND product = ?", (tenant, product_column(product))
        )
        return deleted > 0

    async def set_status(
        self, tenant: str, product: str | None, status: PlanStatus, *, at: datetime, actor: str
    ) -> bool:
        changed = await self._run_write(
            sql.SET_STATUS,
            (status, _text(at), actor, tenant, product_column(product)),
        )
        return changed > 0

    async def set_baseline(self, tenant: str, product: str | None, p99_ms: float | None) -> None:
        await self._run_write(
            "UPDATE autopilot_plan SET baseline_p99_ms = ? WHERE tenant = ? AND product = ?",
            (p99_ms, tenant, product_column(product)),
        )

    async def record_decision(self, decision: DecisionRecord) -> bool:
        try:
            await self._run_write(sql.INSERT_DECISION, sql.decision_row(decision, _text))
        except sqlite3.IntegrityError:
            return False
        return True

    async def forget_decision(self, decision: DecisionRecord) -> None:
        await self._run_write(
            sql.FORGET_DECISION,
            (
                decision.tenant,
                product_column(decision.product),
                decision.from_stage,
                _text(decision.step_started),
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
            f"SELECT {sql.DECISION_COLUMNS} FROM autopilot_decision WHERE {where} "  # noqa: S608
            "ORDER BY at DESC, id DESC LIMIT ?",
            (*parameters, check_limit(limit)),
        )
        return [sql.decision_from_row(row, from_text) for row in rows]

    async def step_rows(
        self, tenant: str, product: str | None, stage: str, *, since: datetime, until: datetime
    ) -> list[LedgerRow]:
        parameters: tuple[Any, ...] = (tenant, stage, _text(since), _text(until))
        if product is not None:
            parameters = (*parameters, product)
        rows = await self._read(sql.step_query(product), parameters)
        return [LedgerRow(side, int(status), fallback, float(ms)) for side, status, fallback, ms in rows]

    async def legacy_volume(self, *, since: datetime, until: datetime) -> list[LegacyVolume]:
        rows = await self._read(sql.LEGACY_VOLUME, (_text(since), _text(until)))
        return [
            LegacyVolume(tenant, int(count), from_text(last) if last else None)
            for tenant, count, last in rows
        ]

    async def acquire_lease(self, name: str, holder: str, *, now: datetime, ttl_s: float) -> bool:
        expires = _text(now + timedelta(seconds=ttl_s))
        current = _text(now)

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

    async def release_lease(self, name: str, holder: str) -> None:
        await self._run_write(sql.RELEASE_LEASE, (name, holder))
