"""Live reloads under steady legacy traffic: does any answer fail while the set is swapped?

Starts ``pdt-proxy serve`` (a subprocess, embedded defaults, on a temporary copy of
``mappings/`` and the demo tenant file), keeps ``--connections`` clients sending
Data Trust v1 calls, and meanwhile fires ``--reloads`` reloads, alternating
``POST /admin/reload`` and SIGHUP; most edit a DE-PARA table first (a real swap),
one writes a broken ``compare.yaml`` (a refusal). Prints requests answered and
failed (non-2xx or connection errors), reloads ok/refused, the reload duration
(the proxy's own measure: load, check, swap) p50/max, and the latency p50/p99 of
requests that overlapped a reload against those that did not.

    .venv/bin/python load/reload_under_load.py [--seconds 30] [--connections 16] [--reloads 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from proxy.tenants import demo_tenants_file

_ROOT = Path(__file__).resolve().parent.parent
_ADMIN = {"Authorization": "Bearer demo-admin-token"}
_BODY = {
    "IdentifierId": "pedido-1",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}


@dataclass
class Figures:
    # (start, end, ok) per request, monotonic seconds.
    requests: list[tuple[float, float, bool]] = field(default_factory=list)
    # (start, end) of each reload as the driver saw it.
    windows: list[tuple[float, float]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    durations_ms: list[float] = field(default_factory=list)
    # Answers by status ("error" for a connection that failed): what a failure was.
    statuses: Counter[str] = field(default_factory=Counter)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _traffic(
    session: aiohttp.ClientSession, base: str, token: str, stop: asyncio.Event, figures: Figures
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        started = time.monotonic()
        try:
            async with session.post(f"{base}/products/v1/datatrust", json=_BODY, headers=headers) as answer:
                await answer.read()
                ok = 200 <= answer.status < 300
                figures.statuses[str(answer.status)] += 1
        except aiohttp.ClientError:
            ok = False
            figures.statuses["error"] += 1
        figures.requests.append((started, time.monotonic(), ok))


def _edit_table(table: Path, round_number: int) -> None:
    head, *rows = table.read_text(encoding="utf-8").splitlines()
    edited = []
    for row in rows:
        cells = row.split(",")
        cells[2] = cells[2].split(" (rev ")[0] + f" (rev {round_number})"
        edited.append(",".join(cells))
    table.write_text("\n".join([head, *edited]) + "\n", encoding="utf-8")


async def _last_reload(session: aiohttp.ClientSession, base: str) -> dict[str, object] | None:
    async with session.get(f"{base}/admin/config", headers=_ADMIN) as answer:
        body = await answer.json()
    last = body.get("last_reload")
    return last if isinstance(last, dict) else None


async def _reloads(
    session: aiohttp.ClientSession,
    base: str,
    process: subprocess.Popen[bytes],
    mappings: Path,
    count: int,
    every_s: float,
    figures: Figures,
) -> None:
    table = mappings / "datatrust-v1" / "tables" / "insights.csv"
    compare = mappings / "compare.yaml"
    good_compare = compare.read_text(encoding="utf-8")
    for number in range(count):
        await asyncio.sleep(every_s)
        broken = number == count // 2
        if broken:
            compare.write_text("operations: [\n", encoding="utf-8")
        elif number % 3 != 2:
            # Two in three change a table; the rest reload an unchanged set.
            _edit_table(table, number)
        before = await _last_reload(session, base)
        started = time.monotonic()
        if number % 2 == 0:
            async with session.post(f"{base}/admin/reload", headers=_ADMIN) as answer:
                outcome = await answer.json()
        else:
            process.send_signal(signal.SIGHUP)
            while True:
                found = await _last_reload(session, base)
                if found is not None and found != before:
                    outcome = found
                    break
                await asyncio.sleep(0.02)
        figures.windows.append((started, time.monotonic()))
        figures.outcomes.append(str(outcome["outcome"]))
        figures.durations_ms.append(float(outcome["duration_ms"]))
        if broken:
            compare.write_text(good_compare, encoding="utf-8")


async def _drive(
    base: str, process: subprocess.Popen[bytes], mappings: Path, args: argparse.Namespace
) -> Figures:
    figures = Figures()
    connector = aiohttp.TCPConnector(limit=args.connections + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        login = {"Username": "demo-dt", "Password": "demo-dt-secret"}
        async with session.post(f"{base}/products/v1/authentication", json=login) as answer:
            token = (await answer.json())["token"]
        stop = asyncio.Event()
        clients = [
            asyncio.create_task(_traffic(session, base, token, stop, figures))
            for _ in range(args.connections)
        ]
        every_s = args.seconds / (args.reloads + 1)
        await _reloads(session, base, process, mappings, args.reloads, every_s, figures)
        await asyncio.sleep(every_s)
        stop.set()
        await asyncio.gather(*clients)
    return figures


def _report(figures: Figures) -> str:
    def overlaps(start: float, end: float) -> bool:
        return any(start < w_end and end > w_start for w_start, w_end in figures.windows)

    during = [(end - start) * 1000 for start, end, _ in figures.requests if overlaps(start, end)]
    outside = [(end - start) * 1000 for start, end, _ in figures.requests if not overlaps(start, end)]
    failed = sum(1 for *_, ok in figures.requests if not ok)
    lines = [
        f"requests answered: {len(figures.requests) - failed}",
        f"requests failed (non-2xx or connection error): {failed}",
        "answers by status: " + ", ".join(f"{status} {n}" for status, n in sorted(figures.statuses.items())),
        f"reloads: {figures.outcomes.count('ok')} ok, {figures.outcomes.count('refused')} refused "
        f"(alternating POST /admin/reload and SIGHUP)",
        f"reload duration (load, check, swap): p50 {_percentile(figures.durations_ms, 50):.1f} ms, "
        f"max {max(figures.durations_ms, default=float('nan')):.1f} ms",
        f"latency during reloads ({len(during)} requests): p50 {_percentile(during, 50):.1f} ms, "
        f"p99 {_percentile(during, 99):.1f} ms",
        f"latency outside reloads ({len(outside)} requests): p50 {_percentile(outside, 50):.1f} ms, "
        f"p99 {_percentile(outside, 99):.1f} ms",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reloads", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reload-load-") as scratch:
        work = Path(scratch)
        mappings = work / "mappings"
        shutil.copytree(_ROOT / "mappings", mappings)
        shutil.copyfile(demo_tenants_file(), work / "tenants.yaml")
        port = _free_port()
        env = {
            **os.environ,
            "PROXY_DATA_DIR": str(work / "data"),
            "PROXY_MAPPINGS_DIR": str(mappings),
            "PROXY_TENANTS_FILE": str(work / "tenants.yaml"),
        }
        # One tenant sends all the traffic: its rate limit (200/s by default) would
        # answer most of it 429 and measure the limiter, not the reloads.
        config = work / "proxy.yaml"
        config.write_text(
            "server:\n  tenant_rate_limit: {requests_per_s: 1000000, burst: 1000000}\n", encoding="utf-8"
        )
        log = (work / "serve.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
            [sys.executable, "-m", "proxy.cli", "serve", "--config", str(config), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, process)
            figures = asyncio.run(_drive(base, process, mappings, args))
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()
        print(_report(figures))
    return 0


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pdt-proxy serve exited before it was ready (exit {process.returncode})")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("pdt-proxy serve never became ready")


if __name__ == "__main__":
    raise SystemExit(main())
