"""Cost per request of each piece the legacy path calls besides the mapping and transport.

    python load/profile_components.py [--requests 5000] [--only NAME ...]
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.parts.%p \\
        python load/profile_components.py --callgrind [--requests 2000] [--dumps /tmp]

profile_hot_path.py measures the whole request; this driver takes the pieces the
request calls once each (token check, rate limit, request id, metrics, ledger record,
access line) one at a time, on the real objects the runtime builds, so a change to one
of them shows as its own figure instead of a fraction of a noisy total. Each piece
runs ``--requests`` times after a warm-up; it prints CPU microseconds per request and,
under callgrind (``--callgrind``), the instructions per request of each piece, read
from the part callgrind dumps after it (instructions do not move with the machine's
load, microseconds do).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy.config import LoggingSettings, RateLimitSettings  # noqa: E402
from proxy.edge.rate_limit import TenantRateLimiter  # noqa: E402
from proxy.edge.tokens import LegacyTokens  # noqa: E402
from proxy.ledger.ledger import Ledger  # noqa: E402
from proxy.ledger.record import LedgerRecord, utc_now  # noqa: E402
from proxy.ledger.sqlite import SqliteStore  # noqa: E402
from proxy.observability.access import AccessEntry, record_access  # noqa: E402
from proxy.observability.logging import bind_request_id, configure_logging  # noqa: E402
from proxy.observability.metrics import Metrics  # noqa: E402

# The hot path's concurrency in profile_hot_path.py: ledger batches form as they do there.
CONCURRENCY = 16

Step = Callable[[int], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    name: str
    step: Step
    concurrent: bool = False


def _tokens_part() -> Part:
    tokens = LegacyTokens(b"k" * 32, ttl_s=3600)
    token, _ = tokens.issue(tenant_id="bench-pack", username="bench", environment="prd", products=["dt"])
    header = f"Bearer {token}"

    async def step(_: int) -> None:
        tokens.verify(header, environment="prd")

    return Part(name="token check", step=step)


def _rate_part() -> Part:
    limiter = TenantRateLimiter(RateLimitSettings(requests_per_s=1e9, burst=1_000_000_000))

    async def step(_: int) -> None:
        await limiter.check("bench-pack")

    return Part(name="rate limit", step=step)


def _request_id_part() -> Part:
    async def step(_: int) -> None:
        bind_request_id(None)

    return Part(name="request id", step=step)


def _metrics_part() -> Part:
    metrics = Metrics()

    async def step(_: int) -> None:
        # What one pack request reports: in flight, its PDT call, its answer.
        metrics.request_started()
        metrics.observe_upstream(upstream="pdt", call="create_pack", outcome="ok", duration_s=0.002)
        metrics.observe_request(
            tenant="bench-pack",
            product="datatrust-v1",
            operation="transactions",
            stage="pdt",
            side="pdt",
            status=200,
            duration_s=0.003,
        )
        metrics.request_finished()

    return Part(name="metrics", step=step)


def _access_part(level: str) -> Part:
    def step_factory() -> Step:
        async def step(index: int) -> None:
            record_access(
                AccessEntry(
                    method="POST",
                    route="/v1/transaction",
                    status=200,
                    duration_ms=3.25,
                    tenant="bench-pack",
                    product="datatrust-v1",
                    operation="transactions",
                    stage="pdt",
                    side="pdt",
                    upstream_ms=2.5,
                    request_bytes=812,
                    response_bytes=2048,
                    client="127.0.0.1",
                    request_id=f"{index:032x}",
                )
            )

        return step

    return Part(name=f"access line ({level})", step=step_factory())


def _ledger_part(directory: Path) -> tuple[Part, Ledger]:
    ledger = Ledger(SqliteStore(directory / "ledger.sqlite3"))

    async def step(index: int) -> None:
        await ledger.record(
            LedgerRecord(
                at=utc_now(),
                tenant="bench-pack",
                product="datatrust-v1",
                operation="transactions",
                stage="pdt",
                side="pdt",
                pdt_transaction_id="2b1e3c1e-9f0a-4d7e-8c55-5d7b3f0e9a11",
                modules=("pack:datatrust",),
                status=200,
                latency_ms=3.25,
                request_id=f"{index:032x}",
            )
        )

    return Part(name="ledger record", step=step, concurrent=True), ledger


def _callgrind(option: str) -> None:
    subprocess.run(["callgrind_control", option, str(os.getpid())], check=True, capture_output=True)  # noqa: S603,S607


async def _run(part: Part, requests: int) -> None:
    if not part.concurrent:
        for index in range(requests):
            await part.step(index)
        return
    remaining = requests

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await part.step(remaining)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _measure(part: Part, requests: int, *, callgrind: bool) -> float:
    await _run(part, min(requests, 500))  # warm-up: caches filled, first-use costs paid
    if callgrind:
        _callgrind("--zero")
        _callgrind("--instr=on")
    cpu = time.process_time()
    await _run(part, requests)
    spent = time.process_time() - cpu
    if callgrind:
        _callgrind("--instr=off")
        _callgrind("--dump")
    return spent / requests * 1e6


def callgrind_instructions(dump: Path) -> int:
    """The instruction count of one callgrind dump (a part written by ``--dump``)."""
    # After --zero the header's ``summary:`` can read 0; ``totals:`` at the end is the count.
    counts = [
        int(line.split()[1])
        for line in dump.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.startswith(("summary:", "totals:"))
    ]
    if not counts:
        raise SystemExit(f"no totals in {dump}")
    return max(counts)


async def _main(args: argparse.Namespace) -> None:
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as scratch:
        ledger_part, ledger = _ledger_part(Path(scratch))
        await ledger.start()
        parts: list[tuple[Part, str | None]] = [
            (_tokens_part(), None),
            (_rate_part(), None),
            (_request_id_part(), None),
            (_metrics_part(), None),
            (ledger_part, None),
            # The bench logs at WARNING (the access line is filtered out); production at INFO.
            (_access_part("WARNING"), "WARNING"),
            (_access_part("INFO"), "INFO"),
        ]
        chosen = [
            (part, level) for part, level in parts if not args.only or part.name.split()[0] in args.only
        ]
        results: list[tuple[str, float]] = []
        try:
            for part, level in chosen:
                configure_logging(LoggingSettings(level=level or "WARNING"), stream=out)
                results.append((part.name, await _measure(part, args.requests, callgrind=args.callgrind)))
                out.seek(0)
                out.truncate()
        finally:
            await ledger.aclose()
    dumps = _dumps(Path(args.dumps)) if args.callgrind else []
    print(f"{'piece':<24} {'us CPU/request':>15}" + (f" {'instructions/request':>21}" if dumps else ""))
    for index, (name, micros) in enumerate(results):
        line = f"{name:<24} {micros:15.1f}"
        if dumps:
            line += f" {callgrind_instructions(dumps[index]) / args.requests:21,.0f}"
        print(line)


def _dumps(directory: Path) -> list[Path]:
    """This process's callgrind parts, in dump order (``--callgrind-out-file`` ends in %p)."""
    pid = os.getpid()
    found = [p for p in directory.glob(f"*.{pid}.*") if p.name.rsplit(".", 1)[-1].isdigit()]
    if not found:
        raise SystemExit(
            "no callgrind dumps in the temporary directory: pass --callgrind-out-file=/tmp/<name>.%p"
        )
    return sorted(found, key=lambda p: int(p.name.rsplit(".", 1)[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--callgrind", action="store_true", help="run under valgrind --tool=callgrind")
    parser.add_argument(
        "--dumps",
        default=tempfile.gettempdir(),
        help="the directory of valgrind's --callgrind-out-file (whose name must end in .%%p)",
    )
    parser.add_argument("--only", nargs="*", help="first word of the pieces to run (token, metrics, ...)")
    import uvloop

    uvloop.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
