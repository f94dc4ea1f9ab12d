"""What both autopilot stores do the same way, written once over two dialect hooks.

The statements (``proxy.autopilot.sql``) are shared already; what differs between
SQLite and PostgreSQL is how a statement is run, how a time is written and read
back, which exception a duplicate decision raises, and the plans' sort collation.
Each dialect supplies those; the lease, whose locking differs, stays in each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, ClassVar

from proxy.autopilot import sql
from proxy.autopilot.figures import LedgerRow
from proxy.autopilot.records import DecisionRecord, LegacyVolume, PlanRecord
from proxy.autopilot_plan import PlanStatus
from proxy.state.rows import check_limit, product_column

__all__ = ["SqlAutopilotStore"]


class SqlAutopilotStore(ABC):
    # The exception the dialect's driver raises on the once-per-step unique index.
    duplicate_error: ClassVar[type[Exception]]
    # Plans by tenant then product, in byte order on both dialects.
    plans_query: ClassVar[str]
    decision_columns: ClassVar[str] = sql.DECISION_COLUMNS

    @abstractmethod
    async def _write(self, statement: str, parameters: tuple[Any, ...]) -> int:
        """Run one statement in its own transaction; the rows it changed."""

    @abstractmethod
    async def _read(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]: ...

    @staticmethod
    @abstractmethod
    def _time(moment: datetime) -> Any:
        """``moment`` as the dialect stores a time."""

    @staticmethod
    @abstractmethod
    def _read_time(value: Any) -> datetime:
        """A stored time back as an aware UTC datetime."""

    async def put_plan(self, plan: PlanRecord) -> None:
        await self._write(sql.UPSERT_PLAN, sql.plan_row(plan, self._time))

    async def plan(self, tenant: str, product: str | None) -> PlanRecord | None:
        rows = await self._read(
            f"SELECT {sql.PLAN_COLUMNS} FROM autopilot_plan WHERE tenant = ? AND product = ?",  # noqa: S608
            (tenant, product_column(product)),
        )
        return sql.plan_from_row(rows[0], self._read_time) if rows else None

    async def plans(self) -> list[PlanRecord]:
        rows = await self._read(self.plans_query, ())
        return [sql.plan_from_row(row, self._read_time) for row in rows]

    async def delete_plan(self, tenant: str, product: str | None) -> bool:
        deleted = await self._write(
            "DELETE FROM autopilot_plan WHERE tenant = ? AND product = ?", (tenant, product_column(product))
        )
        return deleted > 0

    async def set_status(
        self, tenant: str, product: str | None, status: PlanStatus, *, at: datetime, actor: str
    ) -> bool:
        changed = await self._write(
            sql.SET_STATUS, (status, self._time(at), actor, tenant, product_column(product))
        )
        return changed > 0

    async def set_baseline(self, tenant: str, product: str | None, p99_ms: float | None) -> None:
        await self._write(
            "UPDATE autopilot_plan SET baseline_p99_ms = ? WHERE tenant = ? AND product = ?",
            (p99_ms, tenant, product_column(product)),
        )

    async def record_decision(self, decision: DecisionRecord) -> bool:
        try:
            await self._write(sql.INSERT_DECISION, sql.decision_row(decision, self._time))
        except self.duplicate_error:
            return False
        return True

    async def forget_decision(self, decision: DecisionRecord) -> None:
        await self._write(
            sql.FORGET_DECISION,
            (
                decision.tenant,
                product_column(decision.product),
                decision.from_stage,
                self._time(decision.step_started),
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
            f"SELECT {self.decision_columns} FROM autopilot_decision WHERE {where} "  # noqa: S608
            "ORDER BY at DESC, id DESC LIMIT ?",
            (*parameters, check_limit(limit)),
        )
        return [sql.decision_from_row(row, self._read_time) for row in rows]

    async def step_rows(
        self, tenant: str, product: str | None, stage: str, *, since: datetime, until: datetime
    ) -> list[LedgerRow]:
        parameters: tuple[Any, ...] = (tenant, stage, self._time(since), self._time(until))
        if product is not None:
            parameters = (*parameters, product)
        rows = await self._read(sql.step_query(product), parameters)
        return [LedgerRow(side, int(status), fallback, float(ms)) for side, status, fallback, ms in rows]

    async def legacy_volume(self, *, since: datetime, until: datetime) -> list[LegacyVolume]:
        rows = await self._read(sql.LEGACY_VOLUME, (self._time(since), self._time(until)))
        return [
            LegacyVolume(tenant, int(count), self._read_time(last) if last else None)
            for tenant, count, last in rows
        ]

    async def release_lease(self, name: str, holder: str) -> None:
        await self._write(sql.RELEASE_LEASE, (name, holder))
