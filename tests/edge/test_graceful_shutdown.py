"""SIGTERM: stop accepting, answer every request already in flight, then flush the ledger.

A real ``pdt-proxy serve`` whose built-in PDT simulator takes 1.5 s per call, so
requests are provably in flight (the in-flight gauge says how many) when the
signal arrives. Deterministic: the signal waits for the gauge, not for a time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx

from proxy.ledger.factory import SQLITE_FILE
from proxy.ledger.sqlite import SqliteStore
from tests.ledger.test_crash import BODY, _free_port, _recorded, _server_env, _start

# /metrics on the public port is a viewer's to read; the demo admin token is one.
VIEWER = {"Authorization": "Bearer demo-admin-token"}

IN_FLIGHT = 6


async def _in_flight(client: httpx.AsyncClient) -> float:
    for line in (await client.get("/metrics", headers=VIEWER)).text.splitlines():
        if line.startswith("pdt_proxy_requests_in_flight "):
            return float(line.split()[1])
    return 0.0


async def _send_then_terminate(base: str, pid: int) -> tuple[list[int], bool]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        pending = [
            asyncio.create_task(
                client.post(
                    "/products/v1/datatrust", json=BODY, headers={**headers, "X-Request-Id": f"drain-{n}"}
                )
            )
            for n in range(IN_FLIGHT)
        ]
        give_up = time.monotonic() + 20
        while await _in_flight(client) < IN_FLIGHT:
            assert time.monotonic() < give_up, "the requests never got in flight"
            await asyncio.sleep(0.05)
        os.kill(pid, signal.SIGTERM)
        answers = await asyncio.gather(*pending)
        # Once draining, the listener is closed: a new connection is refused.
        try:
            async with httpx.AsyncClient(base_url=base, timeout=2) as fresh:
                await fresh.get("/healthz")
            refused = False
        except httpx.TransportError:
            refused = True
    return [answer.status_code for answer in answers], refused


def test_sigterm_answers_in_flight_requests_and_records_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "proxy.yaml"
    config.write_text("simulator: {latency_ms: 1500}\n", encoding="utf-8")
    env = {**_server_env(data, None), "PROXY_CONFIG": str(config)}
    port = _free_port()
    process = _start(env, port, tmp_path / "serve.log")
    try:
        statuses, refused = asyncio.run(_send_then_terminate(f"http://127.0.0.1:{port}", process.pid))
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert statuses == [200] * IN_FLIGHT
    assert refused
    log = (tmp_path / "serve.log").read_text()
    # uvicorn re-raises the signal once it has shut down cleanly, so the exit status
    # says "terminated by SIGTERM"; the lifespan's completion is what proves the drain.
    assert code in (0, -signal.SIGTERM), log
    assert "Application shutdown complete." in log
    recorded = asyncio.run(_recorded(SqliteStore(data / SQLITE_FILE)))
    assert {f"drain-{n}" for n in range(IN_FLIGHT)} <= recorded
