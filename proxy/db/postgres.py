"""PostgreSQL plumbing shared by the stores: connect, check the schema, migrate once per database.

psycopg 3's async connections in autocommit mode: every store spells out its
transactions (``connection.transaction()``), so nothing is left open between
calls. Connections come from the process's pool (``proxy.db.pool``).
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

from proxy.db.migrations import migrations
from proxy.db.schema import check_version, latest_version

__all__ = ["check_schema", "connect", "migrate", "schema_version"]

# pg_advisory_xact_lock key for migrations: any constant shared by every replica.
# It spells "ledger" in ASCII because the ledger introduced it; kept, so that a
# replica of the previous release starting beside this one (or a second
# ``pdt-proxy migrate``) still queues on the same lock.
_MIGRATION_LOCK: Final = 0x6C6564676572


async def connect(dsn: str, *, connect_timeout_s: float) -> psycopg.AsyncConnection[Any]:
    # libpq takes whole seconds, and 0 would mean "wait forever".
    return await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, connect_timeout=max(1, round(connect_timeout_s))
    )


async def schema_version(connection: psycopg.AsyncConnection[Any]) -> int:
    """The schema version of the database (of the connection's search_path): 0 when unmigrated."""
    cursor = await connection.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    row = await cursor.fetchone()
    if not row or not row[0]:
        return 0
    cursor = await connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def check_schema(connection: psycopg.AsyncConnection[Any]) -> None:
    """Refuse a schema older or newer than this release's (``proxy.db.schema``)."""
    check_version(await schema_version(connection), latest_version("postgres"), migrating=False)


async def migrate(connection: psycopg.AsyncConnection[Any]) -> list[str]:
    """Apply every pending migration, each recorded in ``schema_version``, in one
    transaction; the names applied. A schema newer than this release's is refused."""
    applied: list[str] = []
    async with connection.transaction():
        # Replicas, stores and concurrent ``pdt-proxy migrate`` runs queue here; the
        # first applies, the others then see the new version and apply nothing.
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        check_version(current, latest_version("postgres"), migrating=True)
        for migration in migrations("postgres"):
            if migration.version <= current:
                continue
            # No parameters: psycopg sends the file as one simple query, statements and all.
            await connection.execute(migration.sql.encode())
            await connection.execute(
                "INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.name)
    return applied
