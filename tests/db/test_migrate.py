"""``pdt-proxy migrate`` and the schema checks of serve and the stores, on both backends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proxy.cli import main
from proxy.composition import build_runtime
from proxy.config import load_settings
from proxy.db.migrate import migrate_database
from proxy.db.migrations import migrations
from proxy.db.schema import SchemaError
from proxy.ledger.factory import build_store
from proxy.state.factory import build_state_store
from tests.db.support import Database


def _latest(database: Database) -> int:
    return len(migrations(database.backend))  # type: ignore[arg-type]


def _every(database: Database) -> list[tuple[int, str]]:
    return [(m.version, m.name) for m in migrations(database.backend)]  # type: ignore[arg-type]


def _from_the_future(database: Database) -> int:
    """Migrate ``database``, then record one version more than this release knows."""
    asyncio.run(migrate_database(load_settings(environ=database.environ())))
    future = _latest(database) + 1
    database.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
        (future, f"{future:04d}_from_a_newer_release.sql", "2027-01-01T00:00:00.000000Z"),
    )
    return future


def test_migrate_applies_every_pending_migration_then_has_nothing_to_do(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in database.environ().items():
            patch.setenv(name, value)
        assert main(["migrate"]) == 0
        first = capsys.readouterr().out
        assert main(["migrate"]) == 0
        second = capsys.readouterr().out
    assert database.versions() == _every(database)
    assert f"schema version {_latest(database)}" in first
    assert "0001_ledger.sql" in first
    assert "nothing to apply" in second


def test_two_migrates_at_once_on_a_fresh_database_apply_each_migration_once(
    database: Database, tmp_path: Path
) -> None:
    environ = {**os.environ, **database.environ(PROXY_CONFIG="")}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "migrate"],
            env=environ,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert database.versions() == _every(database)
    # Between them, each migration was applied by exactly one of the two.
    applied = [name for out, _ in outputs for _, name in _every(database) if name in out]
    assert sorted(applied) == sorted(name for _, name in _every(database))


def test_migrate_refuses_a_schema_newer_than_it_knows(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    future = _from_the_future(database)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in database.environ().items():
            patch.setenv(name, value)
        assert main(["migrate"]) == 1
    message = capsys.readouterr().err
    assert f"version {future}" in message
    assert f"version {_latest(database)}" in message


@pytest.mark.parametrize("auto_migrate", ["true", "false"])
async def test_stores_and_the_runtime_refuse_a_newer_schema_naming_both_versions(
    database: Database, auto_migrate: str, tmp_path: Path
) -> None:
    future = await asyncio.to_thread(_from_the_future, database)
    # The data dir is the test's (the runtime keeps its token key there), whatever the backend.
    environ = database.environ(PROXY_DATABASE_AUTO_MIGRATE=auto_migrate, PROXY_DATA_DIR=str(tmp_path))
    settings = load_settings(environ=environ)
    for store in (build_store(settings), build_state_store(settings)):
        with pytest.raises(SchemaError, match=f"version {future}.*version {_latest(database)}"):
            await store.open()
        await store.close()
    runtime = build_runtime(settings)
    try:
        with pytest.raises(SchemaError, match=f"version {future}"):
            await runtime.start()
    finally:
        await runtime.aclose()


async def test_without_auto_migrate_a_fresh_database_is_refused_until_migrated(database: Database) -> None:
    settings = load_settings(environ=database.environ(PROXY_DATABASE_AUTO_MIGRATE="false"))
    for store in (build_store(settings), build_state_store(settings)):
        with pytest.raises(SchemaError, match="pdt-proxy migrate"):
            await store.open()
        await store.close()
    assert "schema_version" not in database.columns()  # checked, not created
    run = await migrate_database(settings)
    assert (run.version, len(run.applied)) == (_latest(database), _latest(database))
    store = build_state_store(settings)
    await store.open()
    try:
        assert await store.stage_overrides() == []
    finally:
        await store.close()


def _serve(environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # A process of its own: serve configures the process's logging, which must not
    # leak into the rest of the suite; and a refusal must come before uvicorn listens.
    return subprocess.run(
        [sys.executable, "-m", "proxy.cli", "serve", "--port", "1"],
        env={**os.environ, "PROXY_CONFIG": "", **environ},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_on_a_schema_it_cannot_serve(database: Database, tmp_path: Path) -> None:
    """Before uvicorn: the refusal is one line on stderr and exit 1, not a failed lifespan."""
    environ = database.environ(PROXY_DATABASE_AUTO_MIGRATE="false", PROXY_DATA_DIR=str(tmp_path))
    older = _serve(environ, tmp_path)
    assert older.returncode == 1
    assert "pdt-proxy migrate" in older.stderr
    assert "Traceback" not in older.stderr
    future = _from_the_future(database)
    newer = _serve({**environ, "PROXY_DATABASE_AUTO_MIGRATE": "true"}, tmp_path)
    assert newer.returncode == 1
    assert f"version {future}" in newer.stderr
    assert "Traceback" not in newer.stderr


def test_migrate_names_an_unreachable_database_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on loopback: nothing listens, the refusal is immediate.
    monkeypatch.setenv("PROXY_DATABASE_DSN", "host=127.0.0.1 port=1 user=proxy password=s3cr3t-pw dbname=x")
    assert main(["migrate"]) == 1
    message = capsys.readouterr().err
    assert "cannot be migrated" in message
    assert "OperationalError" in message
    assert "s3cr3t-pw" not in message
