"""The fleet check: three replicas behind nginx on one PostgreSQL and one Redis, as one proxy.

    python load/fleet.py [--seconds 6] [--outage-s 30] [--capacity-s 10] [--rate 60]
                         [--postgres DSN] [--redis URL] [--json FILE] [--keep-logs DIR]

Starts, on loopback ports of this machine, each in a process group of its own: the
PDT simulator and the legacy simulator (``pdt-proxy simulate pdt|legacy``), three
``pdt-proxy serve`` replicas (one data directory each; the same ``PROXY_TOKEN_KEY``,
``PROXY_CANARY_KEY``, ``PROXY_DATABASE_DSN`` -- a PostgreSQL database created for
the run and dropped after it -- and ``PROXY_REDIS_URL``), and nginx in front of
them (a generated configuration under the run's scratch directory: passive health
checks, ``proxy_next_upstream``). A tenant file made for the run holds one tenant
per role, all three products among them. Then it checks, in order, and prints one
table, a row per check with the figure measured and ``held`` or ``MISSED``:

1. a token from one replica accepted by the others;
2. a stage change (admin API, through nginx) seen by every replica within 2 s;
3. a tenant's rate limit held fleet-wide (+-10 % of one token bucket);
4. ledger total = answered transactions, exactly (every answer's request id);
5. ``kill -9`` of a replica under load: no answered record lost, nginx routes around;
6. a rolling restart (SIGTERM one by one, restart, wait ready) fails no request;
7. a PDT outage of ``--outage-s``: every replica stays ready, and PDT tenants answer
   again within the breaker's open time after PDT returns.

Then, unless ``--capacity-s 0``, the capacity figures: the Data Trust v1 pack path
at saturation through nginx (closed loop), requests per CPU-second of the replicas
(/proc utime+stime: requests/s per core), and what PostgreSQL (commits and rows,
``pg_stat_database`` of the run's database) and Redis (commands processed) carried
per request. Exit status 0 when every row held, 1 when one missed, 2 when nginx,
PostgreSQL or Redis is missing (the run proves nothing without them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any, Final

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet_capacity
import fleet_checks as checks
from fleet_procs import (
    LOOPBACK,
    Child,
    MissingService,
    Nginx,
    free_port,
    nginx_binary,
    postgres_database,
    redis_call,
    wait_answering,
)
from fleet_report import Row, all_held, render_table
from fleet_traffic import PRODUCTS, User, login

from proxy.config import load_settings
from proxy.ledger.factory import build_store
from proxy.ledger.month import Month

ROOT: Final = Path(__file__).resolve().parent.parent
REPLICAS: Final = 3
# Roles of the run's tenants: product, strategy, stage, and a rate limit of its own
# for the one whose limit is checked (the others are never limited: the run drives
# them harder than any real tenant, and a 429 there would read as a failure).
ROLES: Final[dict[str, tuple[str, str, str]]] = {
    "dt": ("datatrust-v1", "modules", "pdt"),
    "ffr": ("ffr", "modules", "pdt"),
    "mt": ("mobile-trust", "modules", "pdt-fallback"),
    "stage": ("datatrust-v1", "modules", "pdt"),
    "limited": ("datatrust-v1", "pack", "pdt"),
    "pack": ("datatrust-v1", "pack", "pdt"),
}
LIMIT_PER_S: Final = 20.0
LIMIT_BURST: Final = 20
PDT_ACCOUNT_VARIABLE: Final = "FLEET_PDT_PASSWORD"
LEGACY_ACCOUNT_VARIABLE: Final = "FLEET_LEGACY_PASSWORD"
START_TIMEOUT_S: Final = 90.0
# The pause between taking a replica out of nginx and stopping it (Kubernetes: the
# preStop sleep while the endpoint removal reaches every load balancer).
DRAIN_S: Final = 1.0


def _tenant_file(run: str, digest: str) -> dict[str, Any]:
    entries = []
    for role, (product, strategy, stage) in ROLES.items():
        tenant = f"{run}-{role}"
        entry: dict[str, Any] = {
            "id": tenant,
            "name": f"Fleet run {role}",
            "products": [product],
            "strategy": strategy,
            "stage": stage,
            "users": [{"username": tenant, "password_hash": digest}],
            # Each tenant its own upstream accounts: the proxy refuses shared ones.
            "pdt": {
                env: {"username": f"{tenant}-pdt-{env}", "password": {"env": PDT_ACCOUNT_VARIABLE}}
                for env in ("prd", "hml")
            },
            "legacy": {
                env: {"username": f"{tenant}-legacy", "password": {"env": LEGACY_ACCOUNT_VARIABLE}}
                for env in ("prd", "hml")
            },
        }
        if strategy == "pack":
            entry["pack"] = "datatrust"
        if role == "limited":
            entry["rate_limit"] = {"requests_per_s": LIMIT_PER_S, "burst": LIMIT_BURST}
        entries.append(entry)
    return {"tenants": entries}


def _settings_text(tenants: Path, pdt_url: str, legacy_url: str, breaker_open_s: float) -> str:
    return (
        f"tenants_file: {tenants}\n"
        "logging: {level: WARNING}\n"
        "server: {tenant_rate_limit: {requests_per_s: 1000000000, burst: 1000000000}}\n"
        f"pdt:\n  environments: {{prd: {{base_url: '{pdt_url}'}}, hml: {{base_url: '{pdt_url}'}}}}\n"
        f"legacy:\n  environments: {{prd: {{base_url: '{legacy_url}'}}, hml: {{base_url: '{legacy_url}'}}}}\n"
        f"resilience: {{breaker: {{open_s: {breaker_open_s}}}}}\n"
    )


@dataclass
class Fleet:
    """The running processes and how to reach them."""

    replicas: list[Child]
    replica_ports: list[int]
    pdt: Child
    pdt_port: int
    legacy: Child
    legacy_port: int
    balancer: Nginx
    nginx_port: int
    graceful_shutdown_s: float
    started: list[Child] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.nginx_port}"

    @property
    def nginx(self) -> Child:
        return self.balancer.child

    async def out_of_rotation(self, index: int) -> None:
        """What Kubernetes does before it stops a pod: no new request reaches it,
        then a pause (a preStop sleep) for the connections nginx had already opened
        to it to deliver their requests. Only then may SIGTERM close its listener:
        a connection still in its accept queue would be reset with a POST on it."""
        await asyncio.to_thread(self.balancer.route, down=[self.replica_ports[index]])
        await asyncio.sleep(DRAIN_S)

    async def all_in_rotation(self) -> None:
        await asyncio.to_thread(self.balancer.route, down=())

    def replica_url(self, index: int) -> str:
        return f"http://{LOOPBACK}:{self.replica_ports[index]}"

    def start(self, child: Child) -> None:
        child.start()
        if child not in self.started:
            self.started.append(child)

    async def restart_replica(self, index: int) -> float:
        """Start a stopped replica again on its port; the seconds until /readyz is 200."""
        replica = self.replicas[index]
        replica.stop(timeout_s=self.graceful_shutdown_s + 5)
        self.start(replica)
        return await _answering(replica, self.replica_url(index) + "/readyz")

    async def restart_pdt(self) -> float:
        self.pdt.stop(timeout_s=5)
        self.start(self.pdt)
        return await _answering(self.pdt, f"http://{LOOPBACK}:{self.pdt_port}/", None)

    def stop_all(self) -> None:
        # nginx first (no new traffic), then replicas (they flush the ledger), then upstreams.
        for child in sorted(self.started, key=lambda c: (c is not self.nginx, c in (self.pdt, self.legacy))):
            child.stop(timeout_s=self.graceful_shutdown_s + 5)


@contextlib.contextmanager
def _terminated_as_exit() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit, so every ``finally`` (the children's
    stops, the database's drop) runs when the run itself is stopped."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {signum: signal.signal(signum, leave) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _build_fleet(directory: Path, args: argparse.Namespace, env: dict[str, str]) -> tuple[Fleet, Path]:
    from proxy.tenants import hash_password

    ports = [free_port() for _ in range(REPLICAS + 3)]
    pdt_port, legacy_port, nginx_port, replica_ports = ports[0], ports[1], ports[2], ports[3:]
    tenants = directory / "tenants.yaml"
    # JSON is YAML: no hand-written quoting of the argon2 hashes.
    tenants.write_bytes(
        orjson.dumps(_tenant_file(args.run, hash_password(env["FLEET_PASSWORD"])), option=orjson.OPT_INDENT_2)
    )
    config = directory / "proxy.yaml"
    config.write_text(
        _settings_text(
            tenants, f"http://{LOOPBACK}:{pdt_port}", f"http://{LOOPBACK}:{legacy_port}", args.breaker_open_s
        ),
        encoding="utf-8",
    )
    python = sys.executable
    cli = [python, "-m", "proxy.cli", "--config", str(config)]
    pdt = Child(
        "PDT simulator", [*cli, "simulate", "pdt", "--port", str(pdt_port)], env, directory / "pdt.log", ROOT
    )
    legacy = Child(
        "legacy simulator",
        [*cli, "simulate", "legacy", "--port", str(legacy_port)],
        env,
        directory / "legacy.log",
        ROOT,
    )
    replicas = []
    for index, port in enumerate(replica_ports):
        data = directory / f"replica-{index}"
        data.mkdir()
        replica_env = {**env, "PROXY_DATA_DIR": str(data)}
        argv = [*cli, "serve", "--host", LOOPBACK, "--port", str(port)]
        replicas.append(
            Child(f"replica {index}", argv, replica_env, directory / f"replica-{index}.log", ROOT)
        )
    prefix = directory / "nginx"
    prefix.mkdir()
    balancer = Nginx(
        prefix,
        listen_port=nginx_port,
        upstream_ports=replica_ports,
        keepalive=args.upstream_keepalive,
        env=env,
        cwd=ROOT,
    )
    graceful = float(load_settings(config, environ=env).server.graceful_shutdown_s)
    return Fleet(
        replicas, replica_ports, pdt, pdt_port, legacy, legacy_port, balancer, nginx_port, graceful
    ), config


def _environment(args: argparse.Namespace, dsn: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLEET_PASSWORD": secrets.token_hex(12),
        PDT_ACCOUNT_VARIABLE: secrets.token_hex(12),
        LEGACY_ACCOUNT_VARIABLE: secrets.token_hex(12),
        "PROXY_ADMIN_TOKEN": secrets.token_hex(16),
        "PROXY_TOKEN_KEY": secrets.token_hex(32),
        "PROXY_CANARY_KEY": secrets.token_hex(32),
        "PROXY_DATABASE_DSN": dsn,
        # The older name of the same setting, kept as an alias: a proxy that only
        # knows it still shares the database.
        "PROXY_LEDGER_DSN": dsn,
        "PROXY_REDIS_URL": args.redis,
    }
    for leftover in ("PROXY_CONFIG", "PROXY_TENANTS_FILE", "PROXY_DATA_DIR", "PROXY_TOKEN_KEYS_PREVIOUS"):
        env.pop(leftover, None)
    return env


async def _start(fleet: Fleet) -> None:
    for child in (fleet.pdt, fleet.legacy, *fleet.replicas):
        fleet.start(child)
    # The simulators have no health route: any answer (a 404) means they listen.
    await asyncio.gather(
        _answering(fleet.pdt, f"http://{LOOPBACK}:{fleet.pdt_port}/", None),
        _answering(fleet.legacy, f"http://{LOOPBACK}:{fleet.legacy_port}/", None),
        *(
            _answering(replica, fleet.replica_url(index) + "/readyz")
            for index, replica in enumerate(fleet.replicas)
        ),
    )
    fleet.start(fleet.nginx)
    await _answering(fleet.nginx, fleet.base + "/healthz")


async def _answering(child: Child, url: str, want: int | None = 200) -> float:
    return await asyncio.to_thread(wait_answering, child, url, timeout_s=START_TIMEOUT_S, want=want)


def _ledger_reader(
    config: Path, env: dict[str, str], since: datetime
) -> Callable[[], Awaitable[dict[str, int]]]:
    """The ledger as the proxy's own store reads it (the export's source): request id -> records."""

    async def read() -> dict[str, int]:
        store = build_store(load_settings(config, environ=env))
        await store.open()
        try:
            months = {
                Month.of(since),
                Month.of(datetime.now(UTC)),
                Month.of(datetime.now(UTC) + timedelta(minutes=1)),
            }
            found: Counter[str] = Counter()
            for month in months:
                found.update(record.request_id for record in await store.records(month))
            return dict(found)
        finally:
            await store.close()

    return read


# -- the run -------------------------------------------------------------------------------------------


async def _checks(
    fleet: Fleet, config: Path, env: dict[str, str], args: argparse.Namespace, dsn: str
) -> tuple[list[Row], dict[str, float]]:
    started = datetime.now(UTC)
    await _start(fleet)
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        users = {}
        for role, (product, _, _) in ROLES.items():
            tenant = f"{args.run}-{role}"
            token = await login(session, fleet.base, PRODUCTS[product], tenant, env["FLEET_PASSWORD"])
            users[role] = User(tenant, PRODUCTS[product], token)
        context = checks.Context(
            fleet=fleet,
            session=session,
            users=users,
            password=env["FLEET_PASSWORD"],
            admin_token=env["PROXY_ADMIN_TOKEN"],
            ledger=_ledger_reader(config, env, started),
            seconds=args.seconds,
            rate_per_s=args.rate,
            outage_s=args.outage_s,
            breaker_open_s=args.breaker_open_s,
            limit_per_s=LIMIT_PER_S,
            limit_burst=LIMIT_BURST,
        )
        rows = [
            await checks.token_travels(context),
            await checks.stage_change_propagates(context),
            await checks.rate_limit_fleet_wide(context),
            await checks.ledger_matches_answers(context),
            await checks.kill_one_under_load(context),
            await checks.rolling_restart(context),
            await checks.pdt_outage(context, f"{LOOPBACK}:{fleet.pdt_port}"),
        ]
        figures = {}
        if args.capacity_s > 0:
            figures = await fleet_capacity.measure(
                fleet,
                users["pack"],
                admin_dsn=args.postgres,
                dsn=dsn,
                redis_url=args.redis,
                seconds=args.capacity_s,
                connections=args.connections,
                ledger=context.ledger,
            )
    return rows, figures


def run(args: argparse.Namespace) -> tuple[list[Row], dict[str, float], str]:
    # Refuse at once, before anything starts, when a service the run needs is missing.
    nginx_binary()
    if redis_call(args.redis, "PING") != b"PONG":
        raise MissingService(f"Redis at {args.redis} did not answer PING")
    with (
        _terminated_as_exit(),
        postgres_database(args.postgres) as dsn,
        tempfile.TemporaryDirectory(prefix="pdt-proxy-fleet-") as scratch,
    ):
        directory = Path(scratch)
        env = _environment(args, dsn)
        fleet, config = _build_fleet(directory, args, env)
        try:
            rows, figures = asyncio.run(_checks(fleet, config, env, args, dsn))
        finally:
            fleet.stop_all()
            if args.keep_logs:
                keep = Path(args.keep_logs)
                keep.mkdir(parents=True, exist_ok=True)
                for log in [*directory.glob("*.log"), directory / "nginx" / "error.log"]:
                    if log.exists():
                        (keep / log.name).write_bytes(log.read_bytes())
        tracebacks = sum(
            log.read_text(errors="replace").count("Traceback (most recent call last)")
            for log in directory.glob("replica-*.log")
        )
    return rows, figures, f"tracebacks in the replicas' logs: {tracebacks}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="load/fleet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="each load phase (default 6)")
    parser.add_argument("--outage-s", type=float, default=30.0, help="how long PDT is down (default 30)")
    parser.add_argument(
        "--capacity-s", type=float, default=10.0, help="capacity measurement, 0 = none (default 10)"
    )
    parser.add_argument(
        "--rate", type=float, default=60.0, help="load phases' requests/s through nginx (default 60)"
    )
    parser.add_argument("--connections", type=int, default=32, help="capacity closed loop's connections (32)")
    parser.add_argument(
        "--upstream-keepalive",
        type=int,
        default=0,
        help="idle nginx->replica connections kept (default 0: a connection per request)",
    )
    parser.add_argument(
        "--breaker-open-s", type=float, default=5.0, help="the replicas' breaker open time (5)"
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PROXY_TEST_PG_DSN", f"host={LOOPBACK} port=5432 user=postgres dbname=postgres"
        ),
        help="a DSN allowed to CREATE DATABASE (default: $PROXY_TEST_PG_DSN, else local postgres)",
    )
    parser.add_argument("--redis", default=f"redis://{LOOPBACK}:6379/0", help="the replicas' PROXY_REDIS_URL")
    parser.add_argument("--json", help="also write the rows and figures as JSON to this file")
    parser.add_argument("--keep-logs", help="copy every process's log to this directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.seconds < 1 or args.outage_s <= 0 or args.rate <= 0 or args.capacity_s < 0:
        raise SystemExit("fleet: --seconds >= 1, --outage-s and --rate > 0, --capacity-s >= 0")
    # Tenant ids unique to the run: a shared Redis keeps no other run's counters for them.
    args.run = f"fl{secrets.token_hex(3)}"
    started = time.monotonic()
    try:
        rows, figures, notes = run(args)
    except MissingService as error:
        print(f"fleet: {error}", file=sys.stderr)
        return 2
    print(render_table(rows))
    for line in fleet_capacity.render(figures, args.connections) if figures else []:
        print(line)
    print(notes)
    verdict = "every row held" if all_held(rows) else "MISSED rows"
    print(f"whole run: {time.monotonic() - started:.0f} s; {verdict}")
    if args.json:
        Path(args.json).write_bytes(
            orjson.dumps(
                {"rows": [row.to_json() for row in rows], "capacity": figures}, option=orjson.OPT_INDENT_2
            )
        )
    return 0 if all_held(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
