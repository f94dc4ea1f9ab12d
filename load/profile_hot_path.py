"""CPU per request of the proxy's hot path, measured in process: a profiling driver.

    python load/profile_hot_path.py [--requests 20000] [--concurrency 16]
        [--strategy pack|modules] [--stage legacy|shadow] [--upstream stub|simulator] [--no-ledger]
        [--profile none|cprofile|callgrind] [--top 40] [--repeat 3]

Builds the real application (``create_app``: mappings, tenants, ledger, the
aiohttp transport) and calls it as an ASGI app, ``concurrency`` requests at a
time, with the Data Trust v1 body bench.py sends. No uvicorn and no HTTP client
sit in front of it, so what is measured is the proxy's own work per request: the
ASGI app, the mapping, validation and the upstream transport.

``--upstream stub`` (the default) runs load/upstream_stub.py in a child process
pinned to the other core, so the real aiohttp transport and its socket are on the
path while the upstream's CPU is not counted; ``simulator`` uses the built-in PDT
simulator in process (its CPU is counted: use it for the mapping, not for totals).

It prints CPU microseconds per request (``time.process_time``, this process only)
for each of ``--repeat`` rounds, their min and median: on a shared machine, compare
medians of runs taken one after the other, never one figure against an old one.
With ``--profile`` the last round is profiled and the top functions printed by
total (inclusive) and own time. ``--profile callgrind`` counts instructions (the
one figure a shared machine does not disturb) over the last round only::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \
        python load/profile_hot_path.py --profile callgrind --requests 1000 --repeat 1

then divide the ``summary:`` line of the dumped file by ``--requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

LOAD = Path(__file__).resolve().parent
ROOT = LOAD.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(LOAD))

from bench import BODY, PATH, _free_port, _setup  # noqa: E402

Message = dict[str, Any]


class _Collect:
    """The ASGI ``send`` of one request: status and body."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
        "state": {},
    }


async def _call(app: Any, method: str, path: str, body: bytes, authorization: str | None) -> _Collect:
    headers = [
        (b"host", b"127.0.0.1:8080"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a client that never disconnects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    collect = _Collect()
    await app(_scope(method, path, headers), receive, collect)
    return collect


async def _round(app: Any, token: str, requests: int, concurrency: int) -> tuple[float, float, int]:
    body = orjson.dumps(BODY)
    remaining = requests
    failures = 0

    async def worker() -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            answer = await _call(app, "POST", PATH, body, token)
            if answer.status != 200:
                failures += 1
                if failures == 1:
                    print(f"unexpected answer {answer.status}: {answer.body[:300]!r}", file=sys.stderr)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.process_time() - cpu, time.perf_counter() - wall, failures


@contextlib.contextmanager
def _stub(port: int) -> Iterator[None]:
    argv = [sys.executable, str(LOAD / "upstream_stub.py"), "--port", str(port)]
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 1:
        argv = ["taskset", "-c", str(cpus[-1]), *argv]
    process = subprocess.Popen(argv)  # noqa: S603 (our own script)
    try:
        import socket

        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the upstream stub did not start")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def _callgrind(option: str) -> None:
    """Steer the valgrind callgrind run this process is in (``--profile callgrind``)."""
    subprocess.run(["callgrind_control", option, str(os.getpid())], check=True, capture_output=True)  # noqa: S603,S607


async def _rounds(app: Any, token: str, args: argparse.Namespace) -> None:
    """``--repeat`` measured rounds; the last one under the chosen profiler."""
    figures: list[float] = []
    profiler: cProfile.Profile | None = None
    for index in range(args.repeat):
        profiled = index == args.repeat - 1 and args.profile != "none"
        if profiled and args.profile == "cprofile":
            profiler = cProfile.Profile()
            profiler.enable()
        elif profiled:
            _callgrind("--instr=on")
        cpu, wall, failures = await _round(app, token, args.requests, args.concurrency)
        if profiler is not None:
            profiler.disable()
        elif profiled:
            _callgrind("--dump")
            _callgrind("--instr=off")
        per = cpu / args.requests * 1e6
        print(
            f"round {index + 1}: {per:7.1f} us CPU/request, {args.requests / wall:8,.0f} req/s wall, "
            f"{failures} failures{f' (profiled: {args.profile})' if profiled else ''}"
        )
        if not profiled:
            figures.append(per)
    if figures:
        low, middle = min(figures), statistics.median(figures)
        print(f"unprofiled rounds: min {low:.1f}, median {middle:.1f} us CPU/request")
    if profiler is not None:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())
        if args.output:
            profiler.dump_stats(args.output)


async def _main(args: argparse.Namespace) -> None:
    from proxy.composition import create_app
    from proxy.config import load_settings
    from proxy.observability.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.logging)
    app = create_app(settings)
    async with app.lifespan():
        user = f"bench-{args.stage or args.strategy}"
        login = orjson.dumps({"Username": user, "Password": "bench-secret"})
        answer = await _call(app, "POST", "/products/v1/authentication", login, None)
        if answer.status != 200:
            raise SystemExit(f"login failed: {answer.status} {answer.body!r}")
        token = f"Bearer {orjson.loads(answer.body)['token']}"
        await _round(app, token, min(2000, args.requests), args.concurrency)  # warm-up
        await _rounds(app, token, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--strategy", choices=("pack", "modules"), default="pack")
    parser.add_argument("--upstream", choices=("stub", "simulator"), default="stub")
    parser.add_argument("--no-ledger", action="store_true")
    parser.add_argument(
        "--stage",
        choices=("legacy", "shadow"),
        help="bench.py's tenant in this stage (pack strategy; the stub is the legacy backend too)",
    )
    parser.add_argument("--profile", choices=("none", "cprofile", "callgrind"), default="none")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", help="with --profile cprofile: also write the pstats file here")
    args = parser.parse_args()
    args.repeat = max(args.repeat, 1)
    os.environ.setdefault("BENCH_PDT_PASSWORD", secrets.token_hex(8))
    os.environ.setdefault("BENCH_LEGACY_PASSWORD", secrets.token_hex(8))
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack:
        upstream = None
        if args.upstream == "stub":
            port = _free_port()
            stack.enter_context(_stub(port))
            upstream = f"http://127.0.0.1:{port}"
        if args.stage is not None and upstream is None:
            raise SystemExit("--stage needs --upstream stub: the stub stands in for the legacy backend")
        config = _setup(Path(scratch), upstream, ledger=not args.no_ledger)
        os.environ["PROXY_CONFIG"] = str(config)
        import uvloop

        uvloop.run(_main(args))


if __name__ == "__main__":
    main()
