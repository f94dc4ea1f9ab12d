"""One compiled, checked configuration set, and the holder that swaps it whole.

Everything an operator edits between releases (the mapping catalog, the tenant
file, the prices and the comparison rules) is loaded together into one frozen
``ConfigSet``. The request path reads ``LiveConfig.current`` once, at the start of
a request, and keeps that object to the end: a reload that swaps the holder in
the meantime never mixes two sets inside one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from proxy.comparison.rules import COMPARE_FILE, CompareRules, load_compare_rules
from proxy.config import Settings
from proxy.errors import ConfigError
from proxy.ledger.factory import load_settings_pricing, pricing_path
from proxy.ledger.pricing import Pricing
from proxy.live.fingerprint import Fingerprint, fingerprint_files
from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.mapping.lint import coverage_report
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
    # The bytes the set was read from (proxy/live/fingerprint.py).
    fingerprint: Fingerprint = field(default_factory=Fingerprint)


def load_config_set(settings: Settings) -> ConfigSet:
    """Load and check the whole set; raises ConfigError or MappingError naming the file.

    The checks are ``pdt-proxy lint``'s (compile, comparison rules, coverage
    catalogues), so a set a reload accepts is a set lint accepts and the other way
    round. The files are hashed before they are parsed: an edit landing during
    the load makes the version older than the set, never newer, and the next
    reload picks it up.
    """
    fingerprint = _fingerprint(settings)
    catalog = load_catalog(settings.mappings_dir)
    pricing = load_settings_pricing(settings)
    tenants = _load_tenants(settings, catalog)
    compare_rules = load_compare_rules(catalog)
    coverage_report(catalog)
    return ConfigSet(
        catalog=catalog,
        tenants=tenants,
        pricing=pricing,
        compare_rules=compare_rules,
        fingerprint=fingerprint,
    )


def _fingerprint(settings: Settings) -> Fingerprint:
    tenants_file = settings.tenants_file or demo_tenants_file()
    try:
        return fingerprint_files(
            mappings_dir=settings.mappings_dir,
            tenants_file=tenants_file,
            pricing_file=pricing_path(settings),
            compare_file=settings.mappings_dir / COMPARE_FILE,
        )
    except OSError as exc:
        raise ConfigError(f"{exc.filename or settings.mappings_dir}: cannot read: {exc.strerror}") from exc


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
            try:
                listener(old, new)
            except Exception:
                # The new set is in force already: one follower that fails must not
                # keep the others on the old one. Candidates are checked for what the
                # followers derive (proxy/followers.py), so this is a bug.
                _log.exception("a follower of the configuration set failed", follower=type(listener).__name__)
