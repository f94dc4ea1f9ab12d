"""PostgreSQL plumbing shared by the stores: connect, and migrate once per database.

psycopg 3's async connection in autocommit mode: every store spells out its
transactions (``connection.transaction()``), so nothing is left open between calls.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

from proxy.db.migrations import migrations

__all__ = ["connect", "migrate"]

# pg_advisory_xact_lock key for migrations: any constant shared by every replica.
# It spells "ledger" in ASCII because the ledger introduced it; kept, so that a
# replica of the previous release starting beside this one still queues on the
# same lock.
_MIGRATION_LOCK: Final = 0x6C6564676572


async def connect(dsn: str, *, connect_timeout_s: float) -> psycopg.AsyncConnection[Any]:
    # libpq takes whole seconds, and 0 would mean "wait forever".
    return await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, connect_timeout=max(1, round(connect_timeout_s))
    )


async def migrate(connection: psycopg.AsyncConnection[Any]) -> None:
    """Apply every pending migration, each recorded in ``schema_version``, in one transaction."""
    async with connection.transaction():
        # Replicas (and stores) starting together queue here; the first applies,
        # the others then see the new version and apply nothing.
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        for migration in migrations("postgres"):
            if migration.version <= current:
                continue
            # No parameters: psycopg sends the file as one simple query, statements and all.
            await connection.execute(migration.sql.encode())
            await connection.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
