"""Settings -> the process's PostgreSQL pool (None on SQLite): one place sizes it."""

from __future__ import annotations

from proxy.config import Settings
from proxy.db.pool import PostgresPool

__all__ = ["database_pool"]


def database_pool(settings: Settings) -> PostgresPool | None:
    """The pool every store of this process shares, unopened; None when the database is SQLite
    (each SQLite store keeps its own connection and thread: ``proxy.db.sqlite``)."""
    database = settings.database
    if not database.dsn:
        return None
    return PostgresPool(
        database.dsn,
        min_size=database.pool_min_size,
        max_size=database.pool_max_size,
        timeout_s=database.pool_timeout_s,
        connect_timeout_s=database.connect_timeout_s,
        auto_migrate=database.auto_migrate,
    )
