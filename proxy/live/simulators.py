"""The built-in simulators learn the accounts of tenants a reload added.

On the embedded defaults the PDT and legacy simulators hold the tenant file's
accounts from startup; a tenant onboarded by a reload must be able to call them
too. Accounts are only added: a removed tenant's proxy tokens are refused at the
edge already, and the simulators are test doubles, not the source of truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from proxy.config import Settings
from proxy.live.config_set import ConfigSet
from proxy.simulators.legacy.state import LegacySimulator
from proxy.simulators.state import PdtSimulator

__all__ = ["SimulatorAccounts"]


class SimulatorAccounts:
    """A ``LiveConfig`` listener over the simulators found among ``apps``."""

    def __init__(self, settings: Settings, apps: Iterable[Any]) -> None:
        self._settings = settings
        states = [getattr(app, "state", None) for app in apps]
        found = [getattr(state, "simulator", None) for state in states]
        self._pdt = [simulator for simulator in found if isinstance(simulator, PdtSimulator)]
        legacy = [getattr(state, "legacy_simulator", None) for state in states]
        self._legacy = [simulator for simulator in legacy if isinstance(simulator, LegacySimulator)]

    def __call__(self, old: ConfigSet, new: ConfigSet) -> None:
        environments = self._settings.pdt.environments
        for tenant in new.tenants.tenants.values():
            for environment, credential in tenant.credentials.items():
                if environments[environment].is_simulator:
                    for pdt in self._pdt:
                        pdt.add_account(credential.username, credential.password)
            for account in tenant.legacy_accounts.values():
                for legacy in self._legacy:
                    legacy.add_account(account.username, account.password, tenant.products)
