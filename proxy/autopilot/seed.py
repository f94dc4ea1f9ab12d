"""Plans declared in the tenant file: checked at startup, stored when none is stored yet."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from proxy.autopilot.records import PlanRecord
from proxy.autopilot.store import AutopilotStore
from proxy.autopilot_plan import AutopilotDefaults, Plan, parse_plan
from proxy.errors import ConfigError
from proxy.tenants import Tenant

__all__ = ["TENANT_FILE_ACTOR", "FilePlan", "file_plans", "seed_plans"]

# The actor of a plan that came from the tenant file (not from an admin token).
TENANT_FILE_ACTOR = "tenant-file"


@dataclass(frozen=True)
class FilePlan:
    tenant: str
    plan: Plan


def file_plans(tenants: Iterable[Tenant], defaults: AutopilotDefaults) -> list[FilePlan]:
    """Every tenant's ``autopilot:`` block as a plan; ConfigError naming the tenant. Pure."""
    plans = []
    for tenant in tenants:
        if tenant.autopilot is None:
            continue
        try:
            plan = parse_plan(tenant.autopilot, defaults)
        except ValueError as error:
            raise ConfigError(f"tenant {tenant.id}: autopilot: {error}") from None
        if plan.product is not None and plan.product not in tenant.products:
            raise ConfigError(f"tenant {tenant.id}: autopilot: product {plan.product!r} is not the tenant's")
        plans.append(FilePlan(tenant.id, plan))
    return plans


async def seed_plans(store: AutopilotStore, plans: Iterable[FilePlan], *, now: datetime) -> list[str]:
    """Store each file plan that has no plan stored (one set through the admin API, or
    paused or stopped there, stays as the operator left it); the tenants seeded."""
    seeded = []
    for item in plans:
        if await store.plan(item.tenant, item.plan.product) is None:
            await store.put_plan(
                PlanRecord(
                    item.tenant, item.plan.product, item.plan.to_json(), "active", now, now, TENANT_FILE_ACTOR
                )
            )
            seeded.append(item.tenant)
    return seeded
