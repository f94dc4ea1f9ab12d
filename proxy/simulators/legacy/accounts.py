"""Legacy logins for the simulator: the demo tenants' and the tenant file's.

The demo passwords are the published ones (``config/tenants.demo.yaml``, README):
the tenant file keeps only their hashes, and a legacy backend must know the
passwords themselves to check them. A tenant's own ``legacy`` account (what the
proxy's legacy, shadow, canary and fallback stages log in with) is added too, so
``simulate legacy`` stands for the backends the tenant file points at. Each login
reaches only its tenant's products.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from proxy.tenants import TenantDirectory

__all__ = ["DEMO_ACCOUNTS", "DEMO_GRANTS", "accounts_from_tenants"]

DEMO_ACCOUNTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "demo-dt": "demo-dt-secret",
        "demo-ffr": "demo-ffr-secret",
        "demo-mt": "demo-mt-secret",
    }
)
DEMO_GRANTS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "demo-dt": frozenset({"datatrust-v1"}),
        "demo-ffr": frozenset({"ffr"}),
        "demo-mt": frozenset({"mobile-trust"}),
    }
)


def accounts_from_tenants(
    directory: TenantDirectory | None,
) -> tuple[dict[str, str], dict[str, frozenset[str]]]:
    """Username -> password and username -> products: the demo logins plus every
    tenant's legacy accounts (a tenant's entry wins over a demo one of the same name)."""
    accounts, grants = dict(DEMO_ACCOUNTS), dict(DEMO_GRANTS)
    for tenant in directory.tenants.values() if directory is not None else ():
        for account in tenant.legacy_accounts.values():
            accounts[account.username] = account.password
            grants[account.username] = tenant.products
    return accounts, grants
