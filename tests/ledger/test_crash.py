"""Durability under a process kill: every answer a client received has its record.

A real ``pdt-proxy serve`` subprocess on the embedded defaults, on SQLite and on
PostgreSQL; a client fires concurrent Data Trust v1 transactions and keeps the
request id of every 200 it received; once it holds enough answers the server is
killed (SIGKILL: no shutdown code runs) or stopped (SIGTERM: graceful shutdown
flushes) while requests are still in flight. Then the store is opened directly.
Deterministic: the kill happens after a number of answers, not after a time.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from proxy.ledger.factory import SQLITE_FILE
from proxy.ledger.postgres import PostgresStore
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from tests.ledger.support import recent_records

BODY = {
    "IdentifierId": "crash-test",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
}
CLIENTS = 16
ANSWERS_BEFORE_THE_KILL = 200
# Per client, so a server that never dies cannot hang the test.
MAX_REQUESTS = 2000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(env: dict[str, str], port: int, log: Path, *, workers: int = 1) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
            [sys.executable, "-m", "proxy.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Its own process group: a kill reaches uvicorn's worker processes too.
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server never became ready"
        time.sleep(0.1)


async def _load_then_stop(base: str, process: subprocess.Popen[bytes], stop: signal.Signals) -> list[str]:
    received: list[str] = []
    enough = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, timeout=10, limits=limits) as client:
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}

        async def fire(worker: int) -> None:
            for n in range(MAX_REQUESTS):
                request_id = f"crash-{worker}-{n}"
                try:
                    answer = await client.post(
                        "/products/v1/datatrust", json=BODY, headers={**headers, "X-Request-Id": request_id}
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if answer.status_code == 200:
                    assert answer.headers["x-request-id"] == request_id
                    received.append(request_id)
                    if len(received) >= ANSWERS_BEFORE_THE_KILL:
                        enough.set()

        workers = [asyncio.create_task(fire(worker)) for worker in range(CLIENTS)]
        await enough.wait()
        # The whole group (uvicorn's workers too) while other clients' requests are in flight.
        os.killpg(process.pid, stop)
        await asyncio.gather(*workers)
    return received


async def _recorded(store: LedgerStore) -> set[str]:
    await store.open()
    try:
        return {record.request_id for record in await recent_records(store)}
    finally:
        await store.close()


def _server_env(data: Path, dsn: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROXY_")}
    env["PROXY_DATA_DIR"] = str(data)
    if dsn:
        # Replicas on a shared database must be given their keys (proxy/keys.py).
        env["PROXY_LEDGER_DSN"] = dsn
        env["PROXY_TOKEN_KEY"] = secrets.token_hex(32)
        env["PROXY_CANARY_KEY"] = secrets.token_hex(32)
    return env


def _run_until_stopped(
    env: dict[str, str], log: Path, stop: signal.Signals, *, workers: int = 1
) -> tuple[list[str], int]:
    port = _free_port()
    process = _start(env, port, log, workers=workers)
    try:
        received = asyncio.run(_load_then_stop(f"http://127.0.0.1:{port}", process, stop))
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return received, process.returncode


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "graceful"])
def test_every_answer_received_has_its_record_after_the_server_dies(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, stop: signal.Signals
) -> None:
    data = tmp_path / "data"
    dsn = request.getfixturevalue("pg_dsn") if backend == "postgres" else None
    log = tmp_path / "serve.log"
    received, returncode = _run_until_stopped(_server_env(data, dsn), log, stop)
    assert returncode in ((-signal.SIGKILL,) if stop == signal.SIGKILL else (0, -signal.SIGTERM))
    assert len(received) >= ANSWERS_BEFORE_THE_KILL
    store: LedgerStore = PostgresStore(dsn) if dsn else SqliteStore(data / SQLITE_FILE)
    recorded = asyncio.run(_recorded(store))
    missing = sorted(set(received) - recorded)
    assert missing == [], f"{len(missing)} answered transactions without a record"
    if stop == signal.SIGTERM:
        assert "ledger writer closed" in log.read_text()


def test_workers_sharing_one_sqlite_file_lose_no_record_on_kill_9(tmp_path: Path) -> None:
    """``serve --workers 2``: two processes, one ledger file (busy_timeout, WAL)."""
    data = tmp_path / "data"
    received, returncode = _run_until_stopped(
        _server_env(data, None), tmp_path / "serve.log", signal.SIGKILL, workers=2
    )
    assert returncode == -signal.SIGKILL
    assert len(received) >= ANSWERS_BEFORE_THE_KILL
    recorded = asyncio.run(_recorded(SqliteStore(data / SQLITE_FILE)))
    assert sorted(set(received) - recorded) == []
