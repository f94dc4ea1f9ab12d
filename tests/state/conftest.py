"""Every state store test runs on SQLite and PostgreSQL alike (tests.db.fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.state.store import StateStore
from tests.db.fixtures import backend, database, pg_dsn
from tests.db.support import Database

# The shared fixtures are used by name: listed so that the import is not unused.
__all__ = ["backend", "database", "pg_dsn", "store"]


@pytest.fixture
async def store(database: Database) -> AsyncIterator[StateStore]:
    opened = database.state_store()
    await opened.open()
    yield opened
    await opened.close()
