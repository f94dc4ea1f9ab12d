"""The benchmark's generated settings and tenants stay loadable as the proxy's rules tighten.

``load/bench.py`` is run by hand, not by the suite; this keeps its setup from rotting
silently (tenants sharing an upstream account, a rate limit that turns the closed
loop into 429s) between the sessions that measure with it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from proxy.config import load_settings, project_root
from proxy.mapping.catalog import load_catalog
from proxy.tenants import load_tenants


def test_the_bench_setup_loads_with_distinct_accounts_and_no_effective_rate_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(project_root() / "load"))
    bench = importlib.import_module("bench")
    monkeypatch.setenv("BENCH_PDT_PASSWORD", "x")
    monkeypatch.setenv("BENCH_LEGACY_PASSWORD", "y")
    config = bench._setup(tmp_path, "http://127.0.0.1:9")
    settings = load_settings(config, environ={})
    catalog = load_catalog(settings.mappings_dir)
    assert settings.tenants_file is not None
    directory = load_tenants(
        settings.tenants_file, known_products=frozenset(catalog.products), simulator_only=False
    )
    assert set(directory.tenants) == {"bench-pack", "bench-modules", "bench-legacy", "bench-shadow"}
    assert settings.server.tenant_rate_limit.requests_per_s >= 1_000_000
