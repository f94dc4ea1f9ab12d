"""Fixtures every database test package imports into its conftest: each store test
runs on SQLite (a file in the test's temporary directory) and on PostgreSQL (a
fresh schema per test, skipped only when the server is unreachable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.db.location import SQLITE_FILE
from tests.db.postgres import postgres_schema, postgres_unreachable
from tests.db.support import Database

__all__ = ["BACKENDS", "backend", "database", "pg_dsn"]

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    with postgres_schema() as dsn:
        yield dsn


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    """The test's fresh database on ``backend``: the file or schema every store of the test shares."""
    if backend == "sqlite":
        return Database(backend, path=tmp_path / SQLITE_FILE)
    return Database(backend, dsn=request.getfixturevalue("pg_dsn"))
