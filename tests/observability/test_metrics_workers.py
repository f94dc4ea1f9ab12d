"""``serve --workers 2`` for real: every scrape covers both workers (issue 14, defect 4).

Before the fix, a scrape showed whichever worker accepted it (measured: 40 requests
answered, scrapes showing 19, 21, 19).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy.observability.multiprocess import collect
from tests.ledger.test_crash import BODY, _free_port, _server_env, _start

REQUESTS = 40
SCRAPES = 6
REQUESTS_METRIC = "pdt_proxy_requests_total"


def _total(exposition: str, sample_name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == sample_name
    )


def _answered_by(directory: Path, pid: int, scratch: Path) -> float:
    """One worker's own count: its counter file read alone."""
    scratch.mkdir()
    shutil.copy(directory / f"counter_{pid}.db", scratch)
    return _total(collect(scratch).decode(), REQUESTS_METRIC)


def _pids(directory: Path, prefix: str) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob(f"{prefix}_*.db")}


async def _send(base: str, requests: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}

    async def one() -> int:
        # A connection per request, so the kernel hands them to both workers.
        async with httpx.AsyncClient(base_url=base, timeout=10) as fresh:
            answer = await fresh.post("/products/v1/datatrust", json=BODY, headers=headers)
            return answer.status_code

    return list(await asyncio.gather(*(one() for _ in range(requests))))


def _metrics_dir(scratch: Path) -> Path:
    directories = list(scratch.glob("pdt-proxy-metrics-*"))
    assert len(directories) == 1, directories
    return directories[0]


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The proxy with two workers on embedded defaults, and the temporary directory it was given."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = _server_env(tmp_path / "data", None)
    # serve makes its metrics directory under the temporary directory: here, so the
    # test can look at the files.
    env["TMPDIR"] = str(scratch)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = _free_port()
    log = tmp_path / "serve.log"
    process = _start(env, port, log, workers=2)
    try:
        yield f"http://127.0.0.1:{port}", scratch
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "Traceback" not in log.read_text()
    # Removed on the way out: nothing of this run can leak into the next one.
    assert not list(scratch.glob("pdt-proxy-metrics-*"))


def test_every_scrape_counts_the_requests_of_every_worker(
    two_workers: tuple[str, Path], tmp_path: Path
) -> None:
    base, scratch = two_workers
    assert asyncio.run(_send(base, REQUESTS)) == [200] * REQUESTS

    scrapes = [
        _total(
            httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer demo-admin-token"}).text,
            REQUESTS_METRIC,
        )
        for _ in range(SCRAPES)
    ]

    assert scrapes == [float(REQUESTS)] * SCRAPES
    directory = _metrics_dir(scratch)
    workers = _pids(directory, "counter")
    assert len(workers) == 2
    shares = [_answered_by(directory, pid, tmp_path / f"alone-{pid}") for pid in sorted(workers)]
    assert sum(shares) == REQUESTS


def test_a_killed_worker_keeps_its_counts_and_loses_its_live_gauges(two_workers: tuple[str, Path]) -> None:
    base, scratch = two_workers
    directory = _metrics_dir(scratch)
    assert asyncio.run(_send(base, REQUESTS)) == [200] * REQUESTS
    live = _pids(directory, "gauge_livesum")
    assert len(live) == 2
    victim = min(live)

    os.kill(victim, signal.SIGKILL)
    # uvicorn's supervisor notices within a second or so and starts a replacement.
    deadline = time.monotonic() + 30
    while victim in _pids(directory, "gauge_livesum") or len(_pids(directory, "gauge_livesum")) < 2:
        assert time.monotonic() < deadline, sorted(path.name for path in directory.iterdir())
        time.sleep(0.2)

    assert victim in _pids(directory, "counter")
    for _ in range(SCRAPES):
        assert (
            _total(
                httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer demo-admin-token"}).text,
                REQUESTS_METRIC,
            )
            == REQUESTS
        )
