"""The one interface both autopilot stores implement (SQLite, PostgreSQL).

Plans, decisions and the leader lease live in the proxy's one database beside the
ledger and the stage state (migration 0004), so every replica reads the same plans
and the same history. The ledger reads are the live figures' source: what every
replica answered, not what one process counted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from proxy.autopilot.figures import LedgerRow
from proxy.autopilot.records import DecisionRecord, LegacyVolume, PlanRecord
from proxy.autopilot_plan import PlanStatus

__all__ = ["AutopilotStore"]


class AutopilotStore(Protocol):
    async def open(self) -> None:
        """Connect (migrating as the other stores do); a no-op when open."""

    async def close(self) -> None:
        """Idempotent."""

    async def put_plan(self, plan: PlanRecord) -> None:
        """Create or replace the plan of ``(tenant, product)``."""

    async def plan(self, tenant: str, product: str | None) -> PlanRecord | None: ...

    async def plans(self) -> list[PlanRecord]:
        """Every plan, by tenant then product."""

    async def delete_plan(self, tenant: str, product: str | None) -> bool:
        """Stop the plan; False when there was none."""

    async def set_status(
        self, tenant: str, product: str | None, status: PlanStatus, *, at: datetime, actor: str
    ) -> bool:
        """False when there is no such plan."""

    async def set_baseline(self, tenant: str, product: str | None, p99_ms: float | None) -> None: ...

    async def record_decision(self, decision: DecisionRecord) -> bool:
        """Append ``decision``; False (nothing stored) when a promote or rollback of the
        same step is already stored: the once-per-step guarantee, whatever the lease."""

    async def forget_decision(self, decision: DecisionRecord) -> None:
        """Remove a promote/rollback whose stage change then failed, so it can be retried."""

    async def decisions(
        self, tenant: str, *, product: str | None = None, limit: int = 100
    ) -> list[DecisionRecord]:
        """Newest first."""

    async def step_rows(
        self, tenant: str, product: str | None, stage: str, *, since: datetime, until: datetime
    ) -> list[LedgerRow]:
        """The ledger rows of ``tenant`` (one product, or all) answered in ``stage``."""

    async def legacy_volume(self, *, since: datetime, until: datetime) -> list[LegacyVolume]:
        """Per tenant, the answers the legacy backend gave through the proxy in the period."""

    async def acquire_lease(self, name: str, holder: str, *, now: datetime, ttl_s: float) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl_s``; False when
        another holder has it and it has not expired."""

    async def release_lease(self, name: str, holder: str) -> None: ...
