"""The stage each tenant (and product) is in right now: the tenant file's, then runtime changes.

Precedence, most specific first: a runtime change for the product, a runtime
change for the tenant, the tenant file's stage for the product, the tenant file's
stage. A runtime change for the tenant therefore moves all its products, which is
what an operator switching "ACME to shadow" means.

Runtime changes come from the admin API (validated here, persisted and audited
by the caller) and, with several workers or replicas, from the shared database:
each process re-reads the overrides every few seconds (``replace_overrides``).
Lookups are plain dict reads on the request path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from proxy.migration_stage import Stage
from proxy.tenants import Tenant, TenantDirectory

__all__ = ["StageBook", "StageRefused", "stage_rows"]

Key = tuple[str, str | None]


class StageRefused(ValueError):
    """A stage change that cannot apply (unknown tenant or product, no legacy credentials)."""


class StageBook:
    def __init__(self, tenants: TenantDirectory) -> None:
        self._tenants = tenants
        self._overrides: dict[Key, Stage] = {}

    def use_tenants(self, tenants: TenantDirectory) -> None:
        """Answer from a reloaded tenant file; overrides of a removed tenant stop counting."""
        self._tenants = tenants
        self._overrides = {key: stage for key, stage in self._overrides.items() if key[0] in tenants.tenants}

    def stage_for(self, tenant: Tenant, product: str) -> Stage:
        overrides = self._overrides
        if overrides:
            found = overrides.get((tenant.id, product)) or overrides.get((tenant.id, None))
            if found is not None:
                return found
        return tenant.stage_for(product)

    def check(self, tenant_id: str, product: str | None, stage: Stage) -> Tenant:
        """The tenant, when ``stage`` may apply to it (and ``product``); else StageRefused."""
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise StageRefused(f"unknown tenant {tenant_id!r}")
        if product is not None and product not in tenant.products:
            raise StageRefused(f"tenant {tenant_id!r} has no product {product!r}")
        if stage.needs_legacy and not tenant.legacy_accounts:
            raise StageRefused(
                f"stage {stage.label} needs the tenant's legacy credentials ('legacy' in the tenant file)"
            )
        return tenant

    def current(self, tenant_id: str, product: str | None) -> Stage:
        """What a change to (tenant, product) replaces: the audit log's "from"."""
        tenant = self._tenants.tenants[tenant_id]
        if product is None:
            return self._overrides.get((tenant_id, None), tenant.stage)
        return self.stage_for(tenant, product)

    def apply(self, tenant_id: str, product: str | None, stage: Stage) -> None:
        self._overrides[(tenant_id, product)] = stage

    def replace_overrides(self, overrides: Iterable[tuple[str, str | None, Stage]]) -> None:
        """Take the shared database's overrides as the whole truth (other workers' changes)."""
        fresh = {
            (tenant, product): stage
            for tenant, product, stage in overrides
            if tenant in self._tenants.tenants
        }
        self._overrides = fresh

    def describe(self) -> list[dict[str, Any]]:
        """Every tenant with its products' stages now, for ``GET /admin/tenants``."""
        described = []
        for tenant in sorted(self._tenants.tenants.values(), key=lambda item: item.id):
            default = self._overrides.get((tenant.id, None), tenant.stage)
            described.append(
                {
                    "tenant": tenant.id,
                    "name": tenant.name,
                    "stage": default.label,
                    "products": {
                        product: self.stage_for(tenant, product).label for product in sorted(tenant.products)
                    },
                    "legacy_credentials": sorted(tenant.legacy_accounts),
                    "pdt_credentials": sorted(tenant.credentials),
                }
            )
        return described

    @property
    def overrides(self) -> Mapping[Key, Stage]:
        return dict(self._overrides)


def stage_rows(stages: StageBook) -> Iterator[tuple[str, str, str]]:
    """``(tenant, product, stage label)``, as ``GET /admin/tenants`` shows them.

    The rows behind the ``pdt_proxy_tenant_stage`` gauge: the metrics read them through
    a callable the runtime hands over, so observability never imports the stages.
    """
    for tenant in stages.describe():
        for product, label in tenant["products"].items():
            yield str(tenant["tenant"]), str(product), str(label)
