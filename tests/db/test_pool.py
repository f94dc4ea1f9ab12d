"""One PostgreSQL pool per process, shared by the ledger and the state store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import psycopg
import pytest

from proxy.composition import build_runtime, create_app
from proxy.config import load_settings
from proxy.ledger.ledger import Ledger
from proxy.ledger.postgres import PostgresStore
from proxy.state.postgres import PostgresStateStore
from tests.ledger.support import make_record
from tests.state.support import change


def shared_database(dsn: str, data_dir: Path) -> dict[str, str]:
    """A replica's environment on a shared database: the DSN and the keys every replica shares."""
    return {
        "PROXY_DATABASE_DSN": dsn,
        "PROXY_DATA_DIR": str(data_dir),
        "PROXY_TOKEN_KEY": "t" * 40,
        "PROXY_CANARY_KEY": "c" * 40,
    }


async def test_the_runtime_shares_one_pool_and_closes_it_at_shutdown(pg_dsn: str, tmp_path: Path) -> None:
    settings = load_settings(environ=shared_database(pg_dsn, tmp_path))
    runtime = build_runtime(settings)
    pool = runtime.database_pool
    assert pool is not None
    assert pool.max_size == settings.database.pool_max_size
    assert isinstance(runtime.ledger, Ledger)
    assert isinstance(runtime.ledger.store, PostgresStore)
    assert isinstance(runtime.state, PostgresStateStore)
    assert runtime.ledger.store.pool is runtime.state.pool is pool
    await runtime.start()
    try:
        await runtime.ledger.record(make_record())
        await runtime.state.set_stage(change())
        assert pool.stats()["pool_size"] >= settings.database.pool_min_size
    finally:
        await runtime.aclose()
    assert pool.closed
    assert pool.stats() == {}


async def test_state_operations_run_side_by_side_instead_of_queueing(pg_dsn: str) -> None:
    """A stage change stuck on a lock does not hold up a stage read: each borrows its
    own connection (one connection behind a lock made the read wait)."""
    store = PostgresStateStore(pg_dsn)
    await store.open()
    try:
        with psycopg.connect(pg_dsn, autocommit=True) as other:
            with other.transaction():
                # Inserting into the audit log now waits; reading overrides does not.
                other.execute("LOCK TABLE stage_audit IN EXCLUSIVE MODE")
                stuck = asyncio.create_task(store.set_stage(change()))
                await asyncio.sleep(0.2)
                assert not stuck.done()
                assert await asyncio.wait_for(store.stage_overrides(), timeout=10) == []
                assert not stuck.done()
            await asyncio.wait_for(stuck, timeout=10)
        assert len(await store.stage_audit()) == 1
    finally:
        await store.close()


async def _backend_pid(
    store: PostgresStateStore, together: asyncio.Barrier, hold: asyncio.Event, pids: list[int]
) -> None:
    async with store.pool.connection() as connection:
        cursor = await connection.execute("SELECT pg_backend_pid()")
        row = await cursor.fetchone()
        assert row is not None
        pids.append(int(row[0]))
        await together.wait()
        await hold.wait()


async def test_connections_killed_under_a_store_are_replaced(pg_dsn: str) -> None:
    """A server-side disconnect fails at most the operations that met it; the pool
    replaces the dead connections and the store goes on (no process restart)."""
    store = PostgresStateStore(pg_dsn)
    await store.open()
    try:
        # Both pooled connections at once, to learn their server pids (only ours are killed:
        # other test runs share this server).
        together, hold, pids = asyncio.Barrier(3), asyncio.Event(), list[int]()
        holders = [asyncio.create_task(_backend_pid(store, together, hold, pids)) for _ in range(2)]
        # Bounded: a holder that failed would otherwise leave the barrier waiting forever.
        await asyncio.wait_for(together.wait(), timeout=10)
        hold.set()
        await asyncio.gather(*holders)
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        failures = 0
        for _ in range(6):
            try:
                assert await store.stage_overrides() == []
            except psycopg.OperationalError:
                failures += 1
        assert failures <= 2  # one per dead connection at most
        await store.set_stage(change())
        assert len(await store.stage_audit()) == 1
    finally:
        await store.close()


async def test_readiness_reads_the_database_through_the_pool(pg_dsn: str, tmp_path: Path) -> None:
    settings = load_settings(environ=shared_database(pg_dsn, tmp_path))
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            answer = await client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize("minimum", [1, 3])
async def test_the_pool_keeps_its_minimum_open(pg_dsn: str, tmp_path: Path, minimum: int) -> None:
    settings = load_settings(environ=shared_database(pg_dsn, tmp_path))
    settings = settings.model_copy(
        update={"database": settings.database.model_copy(update={"pool_min_size": minimum})}
    )
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        assert runtime.database_pool is not None
        assert runtime.database_pool.stats()["pool_size"] == minimum
    finally:
        await runtime.aclose()
