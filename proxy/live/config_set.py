"""One compiled, checked configuration set, and the holder that swaps it whole.

Everything an operator edits between releases (the mapping catalog, the tenant
file, the prices and the comparison rules) is loaded together into one frozen
``ConfigSet``. The request path reads ``LiveConfig.current`` once, at the start of
a request, and keeps that object to the end: a reload that swaps the holder in
the meantime never mixes two sets inside one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from proxy.comparison.rules import CompareRules, load_compare_rules
from proxy.config import Settings
from proxy.ledger.factory import load_settings_pricing
from proxy.ledger.pricing import Pricing
from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.observability.logging import get_logger
from proxy.tenants import TenantDirectory, demo_tenants_file, load_tenants

__all__ = ["ConfigSet", "LiveConfig", "load_config_set"]

_log = get_logger(__name__)

Listener = Callable[["ConfigSet", "ConfigSet"], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigSet:
    catalog: MappingCatalog
    tenants: TenantDirectory
    pricing: Pricing
    compare_rules: CompareRules


def load_config_set(settings: Settings) -> ConfigSet:
    """Load and check the whole set; raises ConfigError or MappingError naming the file."""
    catalog = load_catalog(settings.mappings_dir)
    pricing = load_settings_pricing(settings)
    tenants = _load_tenants(settings, catalog)
    return ConfigSet(
        catalog=catalog, tenants=tenants, pricing=pricing, compare_rules=load_compare_rules(catalog)
    )


def _load_tenants(settings: Settings, catalog: MappingCatalog) -> TenantDirectory:
    path = settings.tenants_file or demo_tenants_file()
    directory = load_tenants(
        path, known_products=frozenset(catalog.products), simulator_only=settings.pdt.all_simulator
    )
    if directory.refused_demo:
        _log.warning(
            "demo tenants refused: a real PDT host is configured",
            tenants=list(directory.refused_demo),
        )
    return directory


class LiveConfig:
    """Holds the current set; ``swap`` replaces it whole and tells each listener.

    Listeners are for state derived from a set that is not re-read per request
    (a cache of verified logins, say); they run synchronously, right after the
    swap, with the old and the new set.
    """

    def __init__(self, first: ConfigSet) -> None:
        self._current = first
        self._listeners: list[Listener] = []

    @property
    def current(self) -> ConfigSet:
        return self._current

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def swap(self, new: ConfigSet) -> None:
        old, self._current = self._current, new
        for listener in self._listeners:
            listener(old, new)
