"""The stage rows behind ``pdt_proxy_tenant_stage``: every tenant's product and its stage now."""

from __future__ import annotations

from collections.abc import Iterator

from proxy.stages.book import StageBook

__all__ = ["stage_rows"]


def stage_rows(stages: StageBook) -> Iterator[tuple[str, str, str]]:
    """``(tenant, product, stage label)``, as ``GET /admin/tenants`` shows them."""
    for tenant in stages.describe():
        for product, label in tenant["products"].items():
            yield str(tenant["tenant"]), str(product), str(label)
