"""Every store test runs against both backends: SQLite in a temporary directory,
and PostgreSQL in a fresh schema per test (skipped only when the server is unreachable)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from proxy.ledger.postgres import PostgresStore
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from tests.db.fixtures import backend, pg_dsn

# The shared fixtures are used by name: listed so that the import is not unused.
__all__ = ["StoreFactory", "backend", "pg_dsn", "store", "store_factory"]

StoreFactory = Callable[[], LedgerStore]


@pytest.fixture
def store_factory(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> StoreFactory:
    """A new, unopened store on the test's database (call it twice: two processes' view)."""
    if backend == "sqlite":
        return lambda: SqliteStore(tmp_path / "ledger.sqlite3")
    dsn = request.getfixturevalue("pg_dsn")
    return lambda: PostgresStore(dsn)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[LedgerStore]:
    opened = store_factory()
    await opened.open()
    yield opened
    await opened.close()
