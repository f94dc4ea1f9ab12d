"""The fleet's capacity: the Data Trust v1 pack path at saturation, and what it costs.

A closed loop through nginx (wrk when installed, else aiohttp: ``loadgen``) and the
CPU seconds each part of the fleet spent meanwhile (utime + stime from /proc:
``bench._tree_cpu_seconds``): requests answered per CPU-second of the replicas is
their requests/s per core. Then the same loop on one replica directly, over
kept-alive connections. PostgreSQL's share comes from ``pg_stat_database`` of the
run's own database and the ledger's records; Redis's from its server-wide command
count.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Final

import psycopg
from bench import _tree_cpu_seconds
from fleet_checks import FleetControl
from fleet_procs import redis_call
from fleet_report import replicas_needed
from fleet_traffic import User
from loadgen import closed_loop

__all__ = ["HEADROOM", "PEAKS", "measure", "render"]


def _pg_counters(admin_dsn: str, dsn: str) -> tuple[float, float, list[int]]:
    """Commits and inserted rows of the run's database, and its backends' pids."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        row = admin.execute(
            "SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
        pids = [
            pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))
        ]
    assert row is not None
    return float(row[0]), float(row[1]), pids


def _redis_commands(url: str) -> int:
    info = redis_call(url, "INFO", "stats")
    assert isinstance(info, bytes)
    for line in info.decode().splitlines():
        if line.startswith("total_commands_processed:"):
            return int(line.split(":", 1)[1])
    return 0


_PG_STATS_SETTLE_S: Final = 2.5
# A replica planned at 60 % of its saturation keeps latency flat and absorbs the
# traffic of a replica lost or restarting until the spare takes it.
HEADROOM: Final = 0.6
PEAKS: Final = (100, 500, 2_000)


async def measure(
    fleet: FleetControl,
    user: User,
    *,
    admin_dsn: str,
    dsn: str,
    redis_url: str,
    seconds: float,
    connections: int,
    ledger: Callable[[], Awaitable[dict[str, int]]],
) -> dict[str, float]:
    """The pack path at saturation through nginx; CPU of each part from /proc."""
    body = user.product.call_body(random.Random(5))
    authorization = f"Bearer {user.token}"
    url = fleet.base + user.product.call_path
    await asyncio.to_thread(closed_loop, url, body, authorization, seconds=2, connections=connections)
    # A backend flushes its statistics at most once a second, and when idle.
    await asyncio.sleep(_PG_STATS_SETTLE_S)
    commits0, rows0, pg_pids = await asyncio.to_thread(_pg_counters, admin_dsn, dsn)
    records0 = sum((await ledger()).values())
    redis0 = _redis_commands(redis_url)
    parts = {
        "replicas": [replica.pid for replica in fleet.replicas],
        "nginx": [fleet.nginx.pid],
        "pdt": [fleet.pdt.pid],
        "postgres": pg_pids,
    }
    before = {name: sum(_tree_cpu_seconds(pid) for pid in pids) for name, pids in parts.items()}
    result = await asyncio.to_thread(
        closed_loop, url, body, authorization, seconds=seconds, connections=connections
    )
    cpu = {name: sum(_tree_cpu_seconds(pid) for pid in pids) - before[name] for name, pids in parts.items()}
    redis1 = _redis_commands(redis_url)
    await asyncio.sleep(_PG_STATS_SETTLE_S)
    commits1, rows1, _ = await asyncio.to_thread(_pg_counters, admin_dsn, dsn)
    records1 = sum((await ledger()).values())
    answered = max(result.requests - result.errors, 1)
    # The same path on one replica directly, over kept-alive connections: what the
    # connection per request between nginx and the replicas costs them.
    replica = fleet.replicas[0]
    alone0 = _tree_cpu_seconds(replica.pid)
    alone = await asyncio.to_thread(
        closed_loop,
        fleet.replica_url(0) + user.product.call_path,
        body,
        authorization,
        seconds=max(2.0, seconds / 2),
        connections=connections,
    )
    alone_cpu = _tree_cpu_seconds(replica.pid) - alone0
    alone_answered = max(alone.requests - alone.errors, 1)
    return {
        "direct_requests_per_s": alone.rate,
        "direct_requests_per_core_s": alone_answered / max(alone_cpu, 1e-9),
        "direct_cpu_us_per_request": alone_cpu / alone_answered * 1e6,
        "seconds": result.seconds,
        "requests": float(result.requests),
        "errors": float(result.errors),
        "requests_per_s": result.rate,
        "replica_cpu_s": cpu["replicas"],
        "requests_per_core_s": answered / max(cpu["replicas"], 1e-9),
        "replica_cpu_us_per_request": cpu["replicas"] / answered * 1e6,
        "nginx_cpu_us_per_request": cpu["nginx"] / answered * 1e6,
        "pdt_simulator_cpu_us_per_request": cpu["pdt"] / answered * 1e6,
        "postgres_cpu_us_per_request": cpu["postgres"] / answered * 1e6,
        "pg_commits_per_request": (commits1 - commits0) / answered,
        "pg_rows_per_request": (rows1 - rows0) / answered,
        "ledger_records_per_request": (records1 - records0) / answered,
        "redis_commands_per_request": (redis1 - redis0) / answered,
    }


def _replicas(peak: int, per_core_per_s: float) -> int:
    return replicas_needed(peak, per_core_per_s, cores_per_replica=1, headroom=HEADROOM)


def render(figures: dict[str, float], connections: int) -> list[str]:
    f = figures
    return [
        f"capacity, Data Trust v1 pack path through nginx, closed loop ({connections} connections, "
        f"{f['seconds']:.0f} s): {f['requests_per_s']:,.0f} req/s, {f['errors']:.0f} errors",
        f"  replicas' CPU: {f['replica_cpu_us_per_request']:,.0f} us/request -> "
        f"{f['requests_per_core_s']:,.0f} requests/s per core",
        f"  one replica directly, kept-alive connections: {f['direct_requests_per_s']:,.0f} req/s, "
        f"{f['direct_cpu_us_per_request']:,.0f} us/request -> {f['direct_requests_per_core_s']:,.0f} "
        "requests/s per core",
        f"  beside them, per request: nginx {f['nginx_cpu_us_per_request']:,.0f} us, "
        f"PDT simulator {f['pdt_simulator_cpu_us_per_request']:,.0f} us, "
        f"PostgreSQL {f['postgres_cpu_us_per_request']:,.0f} us",
        f"  PostgreSQL per request: {f['pg_commits_per_request']:.3f} commits, "
        f"{f['pg_rows_per_request']:.3f} rows inserted "
        f"({f['ledger_records_per_request']:.3f} ledger records)",
        f"  Redis per request: {f['redis_commands_per_request']:.2f} commands "
        "(the server's own count: other clients of the same Redis add to it)",
        "  replicas for a peak (one core each, run at "
        f"{HEADROOM:.0%} of saturation, one spare): "
        + ", ".join(f"{peak:,} req/s: {_replicas(peak, f['requests_per_core_s'])}" for peak in PEAKS),
    ]
