"""Quick throughput check of the translated Data Trust v1 path (one proxy worker).

    python load/bench.py [--seconds 10] [--concurrency 32] [--strategy modules|pack]

Starts the PDT simulator and the proxy as separate processes on loopback (the
simulator with zero latency, so the proxy is the bottleneck), authenticates once,
then drives ``POST /products/v1/datatrust`` with a closed-loop load from a
built-in aiohttp generator, and prints requests/s, latency percentiles and the
proxy's CPU time per request (from /proc). Processes are pinned: proxy on CPU 0,
simulator and load generator on CPU 1.

This is the quick check the foundation issue asks for; the full harness with the
reference proxies and open-loop latency runs builds on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BODY = {
    "IdentifierId": "bench",
    "Document": "123.456.789-09",
    "Email": "bench@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _write_setup(directory: Path, pdt_port: int, strategy: str) -> Path:
    from proxy.tenants import hash_password

    tenants = directory / "tenants.yaml"
    pack = "\n    pack: datatrust" if strategy == "pack" else ""
    tenants.write_text(
        "tenants:\n"
        "  - id: bench\n    name: Benchmark tenant\n    products: [datatrust-v1]\n"
        f"    strategy: {strategy}{pack}\n"
        f"    users: [{{username: bench, password_hash: '{hash_password('bench-secret')}'}}]\n"
        "    pdt:\n      prd: {username: bench-pdt, password: {env: BENCH_PDT_PASSWORD}}\n",
        encoding="utf-8",
    )
    config = directory / "proxy.yaml"
    config.write_text(
        f"tenants_file: {tenants}\ndata_dir: {directory / 'data'}\n"
        f"logging: {{level: WARNING}}\n"
        f"pdt:\n  environments:\n    prd: {{base_url: 'http://127.0.0.1:{pdt_port}'}}\n"
        f"    hml: {{base_url: 'http://127.0.0.1:{pdt_port}'}}\n",
        encoding="utf-8",
    )
    return config


@contextlib.contextmanager
def _process(command: list[str], cpu: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    taskset = ["taskset", "-c", str(cpu)] if os.path.exists("/usr/bin/taskset") else []
    process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
        [*taskset, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            if process.poll() is not None:
                raise SystemExit(
                    f"{url}: process exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as answer:
                    if answer.status < 500:
                        return
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} never became ready")


async def _drive(base: str, seconds: float, concurrency: int) -> tuple[int, int, list[float]]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(
            f"{base}/products/v1/authentication", json={"Username": "bench", "Password": "bench-secret"}
        ) as answer:
            token = (await answer.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        latencies: list[float] = []
        errors = 0
        stop = time.perf_counter() + seconds

        async def user() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                async with session.post(
                    f"{base}/products/v1/datatrust", json=BODY, headers=headers
                ) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(user() for _ in range(concurrency)))
        return len(latencies), errors, latencies


async def _main(args: argparse.Namespace) -> None:
    pdt_port, proxy_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        config = _write_setup(Path(scratch), pdt_port, args.strategy)
        env = {**os.environ, "BENCH_PDT_PASSWORD": secrets.token_hex(8), "PROXY_CONFIG": str(config)}
        cli = [sys.executable, "-m", "proxy.cli"]
        with (
            _process([*cli, "simulate", "pdt", "--port", str(pdt_port)], 1, env) as simulator,
            _process([*cli, "serve", "--port", str(proxy_port)], 0, env) as proxy,
        ):
            await _wait_ready(f"http://127.0.0.1:{pdt_port}/v1/transaction/x", simulator)
            base = f"http://127.0.0.1:{proxy_port}"
            await _wait_ready(f"{base}/healthz", proxy)
            await _drive(base, 2.0, args.concurrency)  # warm-up: connections, caches, profiles
            cpu_before = _cpu_seconds(proxy.pid)
            count, errors, latencies = await _drive(base, args.seconds, args.concurrency)
            cpu = _cpu_seconds(proxy.pid) - cpu_before
    latencies.sort()
    print(f"strategy={args.strategy} concurrency={args.concurrency} seconds={args.seconds}")
    print(f"requests: {count}  errors: {errors}  throughput: {count / args.seconds:,.0f} req/s (1 worker)")
    print(f"proxy CPU: {cpu / max(count, 1) * 1e6:,.0f} us/request")
    print(
        f"latency ms: p50 {statistics.median(latencies) * 1000:.2f}  "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--strategy", choices=["modules", "pack"], default="pack")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
