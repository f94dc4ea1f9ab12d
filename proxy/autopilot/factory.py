"""Settings -> autopilot store, on the proxy's one database (as the state store's)."""

from __future__ import annotations

from proxy.autopilot.postgres_store import PostgresAutopilotStore
from proxy.autopilot.sqlite_store import SqliteAutopilotStore
from proxy.autopilot.store import AutopilotStore
from proxy.config import Settings
from proxy.db.factory import database_pool
from proxy.db.location import sqlite_path
from proxy.db.pool import PostgresPool

__all__ = ["build_autopilot_store"]


def build_autopilot_store(settings: Settings, *, pool: PostgresPool | None = None) -> AutopilotStore:
    if settings.database.dsn:
        own = pool is None
        chosen = pool or database_pool(settings)
        assert chosen is not None  # a DSN is set
        return PostgresAutopilotStore(chosen, owns_pool=own)
    return SqliteAutopilotStore(
        sqlite_path(settings),
        busy_timeout_ms=settings.ledger.sqlite_busy_timeout_ms,
        auto_migrate=settings.database.auto_migrate,
    )
