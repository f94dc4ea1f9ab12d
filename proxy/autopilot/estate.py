"""The whole migration at a glance: tenants per stage, next gate, blocked, decommission.

``legacy can be switched off``: every product of the tenant in ``pdt`` for at least
``decommission_after_days`` and no answer from the legacy backend through the proxy
in that time (from every replica's ledger rows). Tenants whose traffic still reaches
the legacy backend are listed with their volume over the same period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.records import LegacyVolume
from proxy.state.records import StageOverride
from proxy.tenants import TenantDirectory

__all__ = ["Estate", "TenantLine", "build_estate", "estate"]


@dataclass(frozen=True)
class TenantLine:
    tenant: str
    stages: dict[str, str]
    plan: str  # "none", "active", "paused", "halted"
    next_gate: str | None
    blocked: str | None
    legacy_answers: int
    in_pdt_since: str | None


@dataclass(frozen=True)
class Estate:
    at: datetime
    period_days: int
    per_stage: dict[str, int]
    tenants: list[TenantLine]
    switch_off: list[str]
    legacy_traffic: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "period_days": self.period_days,
            "per_stage": self.per_stage,
            "tenants": [line.__dict__ for line in self.tenants],
            "legacy_can_be_switched_off": self.switch_off,
            "legacy_traffic": self.legacy_traffic,
        }


@dataclass(frozen=True)
class PlanState:
    status: str
    next_gate: str | None
    blocked: str | None


def build_estate(
    *,
    now: datetime,
    period_days: int,
    stages: dict[str, dict[str, str]],
    overrides: list[StageOverride],
    plans: dict[str, PlanState],
    volume: list[LegacyVolume],
) -> Estate:
    """The estate from its data. ``stages``: tenant -> product -> stage label. Pure."""
    since = now - timedelta(days=period_days)
    answers = {item.tenant: item for item in volume}
    changed_at: dict[str, datetime] = {}
    for override in overrides:
        # The latest change to any of the tenant's stages: when it last left (or reached) pdt.
        changed_at[override.tenant] = max(override.at, changed_at.get(override.tenant, override.at))
    per_stage: Counter[str] = Counter()
    lines, switch_off = [], []
    for tenant, products in sorted(stages.items()):
        per_stage.update(products.values())
        state = plans.get(tenant)
        legacy = answers[tenant].answers if tenant in answers else 0
        all_pdt = all(label == "pdt" for label in products.values())
        since_at = changed_at.get(tenant)
        if all_pdt and legacy == 0 and (since_at is None or since_at <= since):
            switch_off.append(tenant)
        lines.append(
            TenantLine(
                tenant,
                dict(sorted(products.items())),
                state.status if state else "none",
                state.next_gate if state else None,
                state.blocked if state else None,
                legacy,
                (since_at.isoformat() if since_at else "tenant file") if all_pdt else None,
            )
        )
    traffic = [
        {
            "tenant": item.tenant,
            "answers": item.answers,
            "last_at": item.last_at.isoformat() if item.last_at else None,
        }
        for item in sorted(volume, key=lambda item: (-item.answers, item.tenant))
    ]
    return Estate(now, period_days, dict(sorted(per_stage.items())), lines, switch_off, traffic)


async def estate(autopilot: Autopilot, tenants: TenantDirectory) -> Estate:
    """The estate now, from the database (stages, plans, ledger) as every replica sees it."""
    now = autopilot.clock()
    period = autopilot.defaults.decommission_after_days
    await autopilot.control.refresh()
    book = autopilot.control.book
    stages = {
        tenant.id: {product: book.current(tenant.id, product).label for product in sorted(tenant.products)}
        for tenant in tenants.tenants.values()
    }
    plans: dict[str, PlanState] = {}
    for record in await autopilot.store.plans():
        if record.tenant not in stages:
            continue
        outcome = await autopilot.evaluate(record.tenant, record.product, dry_run=True)
        verdict = outcome.verdict if outcome else None
        blocked = None
        if record.status == "paused":
            blocked = "paused by an operator"
        elif record.status == "halted":
            blocked = "halted after a rollback: resume to promote again"
        elif verdict is not None and verdict.reason.startswith("stage "):
            blocked = verdict.reason
        next_gate = None
        if verdict is not None:
            if verdict.from_stage == verdict.to_stage and verdict.reason.startswith(
                "at the plan's last step"
            ):
                next_gate = "none: at the plan's last step"
            elif verdict.missing:
                next_gate = verdict.missing[0]
            else:
                next_gate = f"{verdict.decision} to {verdict.to_stage}"
        plans[record.tenant] = PlanState(record.status, next_gate, blocked)
    volume = await autopilot.store.legacy_volume(since=now - timedelta(days=period), until=now)
    overrides = await autopilot.state.stage_overrides()
    return build_estate(
        now=now, period_days=period, stages=stages, overrides=overrides, plans=plans, volume=volume
    )
