"""The autopilot's SQL, one text for both backends (``?`` placeholders; PostgreSQL's
store turns them into ``%s``), and the row <-> record conversions. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Final

import orjson

from proxy.autopilot.records import DecisionRecord, PlanRecord
from proxy.state.rows import product_column, product_value

__all__ = [
    "DECISION_COLUMNS",
    "PLAN_COLUMNS",
    "decision_from_row",
    "decision_row",
    "plan_from_row",
    "plan_row",
]

PLAN_COLUMNS: Final = "tenant, product, plan, status, created_at, updated_at, actor, baseline_p99_ms"
DECISION_COLUMNS: Final = (
    "at, tenant, product, decision, from_stage, to_stage, step_started, reason, figures, actor"
)

UPSERT_PLAN: Final = (
    f"INSERT INTO autopilot_plan ({PLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (tenant, product) DO UPDATE SET plan = excluded.plan, status = excluded.status, "
    "updated_at = excluded.updated_at, actor = excluded.actor"
)
INSERT_DECISION: Final = (
    f"INSERT INTO autopilot_decision ({DECISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
FORGET_DECISION: Final = (
    "DELETE FROM autopilot_decision WHERE tenant = ? AND product = ? AND from_stage = ? "
    "AND step_started = ? AND decision = ?"
)
RENEW_LEASE: Final = (
    "UPDATE autopilot_lease SET holder = ?, expires_at = ? "
    "WHERE lease = ? AND (holder = ? OR expires_at <= ?)"
)
TAKE_LEASE: Final = (
    "INSERT INTO autopilot_lease (lease, holder, expires_at) VALUES (?, ?, ?) ON CONFLICT (lease) DO NOTHING"
)
SET_STATUS: Final = (
    "UPDATE autopilot_plan SET status = ?, updated_at = ?, actor = ? WHERE tenant = ? AND product = ?"
)
RELEASE_LEASE: Final = "DELETE FROM autopilot_lease WHERE lease = ? AND holder = ?"
LEGACY_VOLUME: Final = (
    "SELECT tenant, COUNT(*), MAX(at) FROM ledger WHERE side = 'legacy' AND at >= ? AND at < ? "
    "GROUP BY tenant ORDER BY tenant"
)


def step_query(product: str | None) -> str:
    where = "tenant = ? AND stage = ? AND at >= ? AND at < ?" + (
        "" if product is None else " AND product = ?"
    )
    return f"SELECT side, status, fallback, latency_ms FROM ledger WHERE {where}"  # noqa: S608


def plan_row(plan: PlanRecord, time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    return (
        plan.tenant,
        product_column(plan.product),
        orjson.dumps(plan.plan).decode(),
        plan.status,
        time(plan.created_at),
        time(plan.updated_at),
        plan.actor,
        plan.baseline_p99_ms,
    )


def plan_from_row(row: Sequence[Any], time: Callable[[Any], datetime]) -> PlanRecord:
    tenant, product, plan, status, created, updated, actor, baseline = row
    return PlanRecord(
        tenant,
        product_value(product),
        orjson.loads(plan),
        status,
        time(created),
        time(updated),
        actor,
        None if baseline is None else float(baseline),
    )


def decision_row(decision: DecisionRecord, time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    return (
        time(decision.at),
        decision.tenant,
        product_column(decision.product),
        decision.decision,
        decision.from_stage,
        decision.to_stage,
        time(decision.step_started),
        decision.reason,
        orjson.dumps(decision.figures).decode(),
        decision.actor,
    )


def decision_from_row(row: Sequence[Any], time: Callable[[Any], datetime]) -> DecisionRecord:
    at, tenant, product, decision, from_stage, to_stage, started, reason, figures, actor = row
    return DecisionRecord(
        time(at),
        tenant,
        product_value(product),
        decision,
        from_stage,
        to_stage,
        time(started),
        reason,
        orjson.loads(figures),
        actor,
    )
