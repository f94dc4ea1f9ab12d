"""The one log line a process writes when it starts: what configuration it runs, no secrets.

An operator reading a replica's first line should see which products it serves, how
many tenants in which stages, which database kind and PDT hosts it talks to, and
whether Redis and tracing are on, without a DSN, URL path, credential or tenant name
in it. ``summarise`` is pure; the app logs its result after startup succeeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from proxy.config import SIMULATOR, Settings
from proxy.observability.labels import host_of

__all__ = ["summarise"]


def _host(base_url: str) -> str:
    # Host and port only: a base URL may carry user info or a path with an account.
    return SIMULATOR if base_url == SIMULATOR else host_of(base_url)


def _database(settings: Settings) -> str:
    # ``database.dsn`` is the shared name; ``ledger.dsn`` its older alias.
    database = getattr(settings, "database", None)
    dsn = getattr(database, "dsn", None) or settings.ledger.dsn
    return "postgres" if dsn else "sqlite"


def _redis_on(settings: Settings) -> bool:
    redis = getattr(settings, "redis", None)
    return bool(getattr(redis, "url", None))


def summarise(
    settings: Settings,
    *,
    products: Iterable[str],
    tenant_stages: Mapping[str, str],
    tracing_on: bool,
) -> dict[str, Any]:
    """``tenant_stages`` maps each tenant id to its default stage label (only counted here)."""
    return {
        "products": sorted(products),
        "tenants": len(tenant_stages),
        "tenants_by_stage": dict(sorted(Counter(tenant_stages.values()).items())),
        "database": _database(settings),
        "redis": _redis_on(settings),
        "pdt_hosts": {name: _host(env.base_url) for name, env in sorted(settings.pdt.environments.items())},
        "legacy_hosts": {
            name: _host(env.base_url) for name, env in sorted(settings.legacy.all_environments())
        },
        "workers": settings.server.workers,
        "ledger": settings.ledger.enabled,
        "tracing": tracing_on,
    }
