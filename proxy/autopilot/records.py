"""What the autopilot store holds: plans, decisions, and the reads it makes of the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from proxy.autopilot_plan import PlanStatus
from proxy.state.records import as_utc

__all__ = ["DecisionRecord", "LegacyVolume", "PlanRecord"]

# Every decision the autopilot takes is audited under this actor.
AUTOPILOT_ACTOR = "autopilot"


@dataclass(frozen=True, slots=True)
class PlanRecord:
    tenant: str
    product: str | None
    # The plan as JSON (proxy.autopilot_plan.Plan.to_json): re-parsed on read, so a
    # replica reads exactly what the admin API stored.
    plan: dict[str, Any]
    status: PlanStatus
    created_at: datetime
    updated_at: datetime
    actor: str
    baseline_p99_ms: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "created_at", as_utc(self.created_at, "a plan"))
        object.__setattr__(self, "updated_at", as_utc(self.updated_at, "a plan"))


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    at: datetime
    tenant: str
    product: str | None
    decision: str
    from_stage: str
    to_stage: str
    # When the step judged began: a promote or rollback is stored once per step.
    step_started: datetime
    reason: str
    figures: dict[str, Any]
    actor: str = AUTOPILOT_ACTOR

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "a decision"))
        object.__setattr__(self, "step_started", as_utc(self.step_started, "a decision's step"))

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "tenant": self.tenant,
            "product": self.product,
            "decision": self.decision,
            "from": self.from_stage,
            "to": self.to_stage,
            "step_started": self.step_started.isoformat(),
            "reason": self.reason,
            "figures": self.figures,
            "actor": self.actor,
        }


@dataclass(frozen=True, slots=True)
class LegacyVolume:
    """A tenant's answers from the legacy backend through the proxy over a period."""

    tenant: str
    answers: int
    last_at: datetime | None
