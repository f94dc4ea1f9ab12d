"""Settings -> state store: the ledger's database, chosen the way the ledger's is."""

from __future__ import annotations

from proxy.config import Settings
from proxy.db.location import sqlite_path
from proxy.state.postgres import PostgresStateStore
from proxy.state.sqlite import SqliteStateStore
from proxy.state.store import StateStore

__all__ = ["build_state_store"]


def build_state_store(settings: Settings) -> StateStore:
    """One database for the proxy: ``ledger.dsn`` when set (replicas share the state
    as they share the ledger), else the ledger's SQLite file under the data dir.

    Independent of ``ledger.enabled``: a proxy that does not meter still keeps its
    stage overrides and shadow results."""
    ledger = settings.ledger
    if ledger.dsn:
        return PostgresStateStore(ledger.dsn, connect_timeout_s=ledger.commit_timeout_s)
    return SqliteStateStore(
        sqlite_path(settings),
        synchronous=ledger.sqlite_synchronous,
        busy_timeout_ms=ledger.sqlite_busy_timeout_ms,
    )
