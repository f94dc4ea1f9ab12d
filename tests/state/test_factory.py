"""Settings -> state store: the ledger's database, whichever backend the ledger uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import load_settings
from proxy.db.factory import database_pool
from proxy.ledger.factory import build_store
from proxy.ledger.postgres import PostgresStore
from proxy.ledger.sqlite import SqliteStore
from proxy.state.factory import build_state_store
from proxy.state.postgres import PostgresStateStore
from proxy.state.sqlite import SqliteStateStore

DSN = "host=db.internal port=5432 user=proxy password=hunter2-secret dbname=proxy"


def test_by_default_the_state_lives_in_the_ledgers_sqlite_file(tmp_path: Path) -> None:
    settings = load_settings(environ={"PROXY_DATA_DIR": str(tmp_path)})
    state, ledger = build_state_store(settings), build_store(settings)
    assert isinstance(state, SqliteStateStore)
    assert isinstance(ledger, SqliteStore)
    assert state.path == ledger.path


def test_a_ledger_dsn_puts_the_state_in_the_same_postgresql_database() -> None:
    settings = load_settings(environ={"PROXY_LEDGER_DSN": DSN})
    state, ledger = build_state_store(settings), build_store(settings)
    assert isinstance(state, PostgresStateStore)
    assert isinstance(ledger, PostgresStore)
    assert state.dsn == ledger.dsn == DSN


def test_metering_off_still_keeps_state(tmp_path: Path) -> None:
    settings = load_settings(environ={"PROXY_DATA_DIR": str(tmp_path)})
    settings = settings.model_copy(update={"ledger": settings.ledger.model_copy(update={"enabled": False})})
    assert isinstance(build_state_store(settings), SqliteStateStore)


@pytest.mark.parametrize("variable", ["PROXY_DATABASE_DSN", "PROXY_LEDGER_DSN"])
def test_either_name_puts_both_stores_on_one_shared_pool(variable: str) -> None:
    settings = load_settings(environ={variable: DSN})
    pool = database_pool(settings)
    assert pool is not None
    state, ledger = build_state_store(settings, pool=pool), build_store(settings, pool=pool)
    assert isinstance(state, PostgresStateStore)
    assert isinstance(ledger, PostgresStore)
    assert state.pool is ledger.pool is pool
    assert pool.max_size == settings.database.pool_max_size
    assert "hunter2" not in repr(settings)


def test_no_pool_on_sqlite_and_auto_migrate_reaches_the_stores(tmp_path: Path) -> None:
    settings = load_settings(
        environ={"PROXY_DATA_DIR": str(tmp_path), "PROXY_DATABASE_AUTO_MIGRATE": "false"}
    )
    assert database_pool(settings) is None
    assert isinstance(build_state_store(settings), SqliteStateStore)
