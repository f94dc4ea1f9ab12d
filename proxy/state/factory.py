"""Settings -> state store: the proxy's one database, chosen the way the ledger's is."""

from __future__ import annotations

from proxy.config import Settings
from proxy.db.factory import database_pool
from proxy.db.location import sqlite_path
from proxy.db.pool import PostgresPool
from proxy.state.postgres import PostgresStateStore
from proxy.state.sqlite import SqliteStateStore
from proxy.state.store import StateStore

__all__ = ["build_state_store"]


def build_state_store(settings: Settings, *, pool: PostgresPool | None = None) -> StateStore:
    """One database for the proxy: ``database.dsn`` when set (replicas share the state
    as they share the ledger), through ``pool`` (the process's, shared with the
    ledger) or a pool of its own when none is given (one-shot commands); else the
    SQLite file under the data dir.

    Independent of ``ledger.enabled``: a proxy that does not meter still keeps its
    stage overrides, shadow results and recorded traffic."""
    if settings.database.dsn:
        own = pool is None
        return PostgresStateStore(pool or _own_pool(settings), owns_pool=own)
    ledger = settings.ledger
    return SqliteStateStore(
        sqlite_path(settings),
        synchronous=ledger.sqlite_synchronous,
        busy_timeout_ms=ledger.sqlite_busy_timeout_ms,
        auto_migrate=settings.database.auto_migrate,
    )


def _own_pool(settings: Settings) -> PostgresPool:
    pool = database_pool(settings)
    assert pool is not None  # a DSN is set
    return pool
