"""The replica tests run on SQLite and PostgreSQL alike (tests.db.fixtures)."""

from __future__ import annotations

from tests.db.fixtures import backend, database, pg_dsn

# The shared fixtures are used by name: listed so that the import is not unused.
__all__ = ["backend", "database", "pg_dsn"]
