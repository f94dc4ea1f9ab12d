"""Chaos check: the proxy under load while its upstreams misbehave; every answer judged.

    python load/chaos.py [--seconds 30] [--users 24] [--fault-rate 0.3] [--legacy-fault-rate 0.3]
                         [--faults MIX] [--spike-rate 0.05] [--seed 7]
                         [--json FILE] [--trace FILE.jsonl] [--keep-logs DIR]

Starts, as separate processes on free local ports: the PDT simulator (``--fault-rate``
of its calls faulted, the fault drawn from ``--faults``: 500/502/503/504, 429 with
Retry-After, connections closed mid-answer, answers held past the proxy's read
timeout, 200s with malformed bodies; plus latency spikes), the legacy simulator (503s
and held answers in the legacy families' shapes, at ``--legacy-fault-rate``), and
``pdt-proxy serve`` pointed at both through a temporary settings file and tenant file
(argon2id hashes made by the proxy's own ``hash_password``; the simulators read the
same tenant file, so their accounts match). Then ``--users`` closed-loop clients
drive Data Trust v1, FFR and Mobile Trust, each through one tenant per stage (pdt,
pdt-fallback, legacy, shadow), on the PRD and HML prefixes, for ``--seconds``.

Every answer is checked against ``mappings/`` (``chaos_traffic.Judge``): JSON; a 2xx with
its operation's status and legacy response schema; any other status declared in the
family's error table, body shaped as that entry; no stack trace, no injected
simulator body. The report shows requests by product, stage and status, the faults
the simulators say they injected (``GET /_simulator/faults``), the proxy's fallbacks
and retries (``/metrics``), and up to ten invalid answers in full. Exit status 1 when
any answer is invalid, any is a 500, or no answer came at all; 0 otherwise.
``--trace`` writes every exchange as a JSON line, ``--keep-logs`` keeps the three
processes' logs (the scratch directory is removed at the end).

The simulators are launched through this file (``chaos.py simulator pdt|legacy``)
rather than ``pdt-proxy simulate`` because the fault mix and the seed are not
settings of the ``simulate`` command.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chaos_traffic import PRODUCTS, STAGES, Client, Exchange, Judge, drive

ROOT: Final = Path(__file__).resolve().parent.parent
HERE: Final = Path(__file__).resolve()
# The default mix: every kind a real upstream has shown, transient ones weighted up.
DEFAULT_FAULTS: Final = "500=1,502=1,503=2,504=1,429=2,reset=1,timeout=1,malformed=1"
# Tighter than production (1 s / 5 s / 8 s) so held answers become proxy timeouts,
# and a fallback still has time left, within a 30 s run.
PROXY_TIMEOUTS: Final = "{connect_s: 0.5, read_s: 1.0, write_s: 1.0, pool_s: 1.0}"
REQUEST_DEADLINE_S: Final = 4.0
# How long a "timeout" fault holds its answer: twice the proxy's read timeout.
HOLD_MS: Final = 2_000.0
_EXAMPLES: Final = 10


# -- the simulators, as child processes ---------------------------------------------------


def _serve_simulator(args: argparse.Namespace) -> int:
    import uvicorn

    from proxy.config import LegacySimulatorSettings, SimulatorSettings, load_settings
    from proxy.mapping.catalog import load_catalog
    from proxy.simulators.legacy import accounts_from_tenants, create_legacy_simulator
    from proxy.simulators.middleware import FaultMix
    from proxy.simulators.pdt import create_pdt_simulator
    from proxy.tenants import load_tenants

    settings = load_settings(Path(args.config))
    assert settings.tenants_file is not None
    tenants = load_tenants(settings.tenants_file, known_products=frozenset(PRODUCTS), simulator_only=True)
    if args.target == "pdt":
        mix = FaultMix.parse(args.faults, timeout_ms=args.hold_ms, spike_rate=args.spike_rate)
        accounts = {
            credential.username: credential.password
            for tenant in tenants.tenants.values()
            for credential in tenant.credentials.values()
        }
        app = create_pdt_simulator(
            SimulatorSettings(
                latency_ms=args.latency_ms, latency_jitter_ms=args.jitter_ms, fault_rate=args.fault_rate
            ),
            catalogue_path=settings.mappings_dir / "pdt" / "insights.csv",
            accounts=accounts,
            seed=args.seed,
            faults=mix,
        )
    else:
        # Two thirds answered 503 at once, one third held past the proxy's timeout.
        legacy = LegacySimulatorSettings(
            latency_ms=args.latency_ms,
            latency_jitter_ms=args.jitter_ms,
            fault_rate=args.fault_rate * 2 / 3,
            timeout_rate=args.fault_rate / 3,
            timeout_ms=args.hold_ms,
            seed=args.seed,
        )
        legacy_accounts, grants = accounts_from_tenants(tenants)
        app = create_legacy_simulator(
            legacy, catalog=load_catalog(settings.mappings_dir), accounts=legacy_accounts, grants=grants
        )
    uvicorn.run(app, host="127.0.0.1", port=args.port, loop="uvloop", http="httptools", access_log=False)
    return 0


# -- the run's files ----------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tenant_id(product: str, stage: str) -> str:
    return f"chaos-{product}-{stage}".replace("datatrust-v1", "dt").replace("mobile-trust", "mt")


def _write_files(directory: Path, pdt_url: str, legacy_url: str, password: str) -> Path:
    from proxy.tenants import hash_password

    digest = hash_password(password)
    entries = []
    for product in PRODUCTS:
        for stage in STAGES:
            tenant = _tenant_id(product, stage)
            entries.append(
                {
                    "id": tenant,
                    "name": f"Chaos {product} ({stage})",
                    "products": [product],
                    "strategy": "modules",
                    "stage": stage,
                    "users": [{"username": tenant, "password_hash": digest}],
                    "pdt": {
                        env: {"username": f"{tenant}-pdt-{env}", "password": {"env": "CHAOS_PDT_PASSWORD"}}
                        for env in ("prd", "hml")
                    },
                    "legacy": {
                        env: {"username": f"{tenant}-legacy", "password": {"env": "CHAOS_LEGACY_PASSWORD"}}
                        for env in ("prd", "hml")
                    },
                }
            )
    tenants = directory / "tenants.yaml"
    # JSON is YAML: no hand-written quoting of the argon2 hashes.
    tenants.write_bytes(orjson.dumps({"tenants": entries}, option=orjson.OPT_INDENT_2))
    config = directory / "proxy.yaml"
    config.write_text(
        f"tenants_file: {tenants}\n"
        f"data_dir: {directory / 'data'}\n"
        "logging: {level: WARNING}\n"
        "pdt:\n"
        f"  environments: {{prd: {{base_url: '{pdt_url}'}}, hml: {{base_url: '{pdt_url}'}}}}\n"
        f"  timeouts: {PROXY_TIMEOUTS}\n"
        f"  request_deadline_s: {REQUEST_DEADLINE_S}\n"
        "legacy:\n"
        f"  environments: {{prd: {{base_url: '{legacy_url}'}}, hml: {{base_url: '{legacy_url}'}}}}\n"
        f"  timeouts: {PROXY_TIMEOUTS}\n"
        "shadow: {sample_rate: 1.0}\n",
        encoding="utf-8",
    )
    return config


@dataclass
class _Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def _started(name: str, argv: list[str], env: Mapping[str, str], log: Path) -> Iterator[_Process]:
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running this project)
            argv, env=dict(env), stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
    try:
        yield _Process(name, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(processes: list[tuple[_Process, str]], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for running, url in processes:
        while True:
            if running.process.poll() is not None:
                raise SystemExit(
                    f"chaos: {running.name} exited:\n{running.log.read_text(errors='replace')[-3000:]}"
                )
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"chaos: {running.name} never became ready ({url})")
            time.sleep(0.2)


# -- counters read back from the processes --------------------------------------------------


def _faults(url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{url}/_simulator/faults", timeout=5).json()
    return answer


def _metric_sums(base: str, name: str, label: str, admin_token: str) -> dict[str, float]:
    """A counter's values summed by one label, from the proxy's Prometheus text (a viewer's
    to read on the public port: the admin token is one)."""
    sums: dict[str, float] = {}
    scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {admin_token}"}, timeout=5)
    for line in scraped.text.splitlines():
        if not line.startswith(name + "{"):
            continue
        series, _, value = line.rpartition(" ")
        marker = f'{label}="'
        key = series.split(marker, 1)[1].split('"', 1)[0] if marker in series else "-"
        sums[key] = sums.get(key, 0.0) + float(value)
    return sums


# -- the report -------------------------------------------------------------------------------


@dataclass
class Report:
    seconds: float
    requests: int = 0
    answers_checked: int = 0
    invalid: int = 0
    no_answer: int = 0
    server_errors_500: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_stage: dict[str, Counter[str]] = field(default_factory=dict)
    pdt_faults: dict[str, Any] = field(default_factory=dict)
    legacy_faults: dict[str, Any] = field(default_factory=dict)
    fallbacks: dict[str, float] = field(default_factory=dict)
    retries: dict[str, float] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    proxy_log_tracebacks: int = 0

    @property
    def faults_injected(self) -> int:
        return int(self.pdt_faults.get("faults_total", 0)) + int(self.legacy_faults.get("faults_total", 0))

    @property
    def passed(self) -> bool:
        return self.answers_checked > 0 and self.invalid == 0 and self.server_errors_500 == 0

    def add(self, exchange: Exchange, judge: Judge) -> None:
        self.requests += 1
        stage = self.by_stage.setdefault(f"{exchange.product} / {exchange.stage}", Counter())
        if exchange.status is None:
            self.no_answer += 1
            self.invalid += 1
            stage["no answer"] += 1
            self._example(exchange, [exchange.failure or "no answer"])
            return
        self.answers_checked += 1
        self.by_status[exchange.status] += 1
        stage[str(exchange.status)] += 1
        self.server_errors_500 += exchange.status == 500
        verdict = judge.check(
            exchange.product, exchange.operation, exchange.status, exchange.content_type, exchange.body
        )
        if not verdict.valid:
            self.invalid += 1
            self._example(exchange, list(verdict.problems))

    def _example(self, exchange: Exchange, problems: list[str]) -> None:
        if len(self.examples) < _EXAMPLES:
            self.examples.append(
                {
                    "request": f"{exchange.method} {exchange.path}",
                    "tenant": _tenant_id(exchange.product, exchange.stage),
                    "request_body": exchange.request_body.decode(errors="replace")[:400],
                    "status": exchange.status,
                    "content_type": exchange.content_type,
                    "body": exchange.body.decode(errors="replace")[:600],
                    "problems": problems,
                }
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "requests": self.requests,
            "answers_checked": self.answers_checked,
            "invalid": self.invalid,
            "no_answer": self.no_answer,
            "status_500": self.server_errors_500,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_stage": {
                k: {str(s): n for s, n in sorted(v.items(), key=str)} for k, v in self.by_stage.items()
            },
            "faults_injected": self.faults_injected,
            "pdt_simulator": self.pdt_faults,
            "legacy_simulator": self.legacy_faults,
            "fallbacks": self.fallbacks,
            "retries": self.retries,
            "proxy_log_tracebacks": self.proxy_log_tracebacks,
            "invalid_examples": self.examples,
            "passed": self.passed,
        }

    def render(self) -> str:
        rate = self.requests / self.seconds if self.seconds else 0.0
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.by_status.items()))
        lines = [
            f"chaos run: {self.seconds:.0f} s, {self.requests} requests sent ({rate:,.0f}/s)",
            f"  by status: {statuses}",
        ]
        for name, counts in sorted(self.by_stage.items()):
            shown = ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()))
            lines.append(f"    {name:<28} {shown}")
        for side, seen in (("PDT simulator", self.pdt_faults), ("legacy simulator", self.legacy_faults)):
            kinds = ", ".join(f"{kind} {count}" for kind, count in seen.get("faults", {}).items()) or "none"
            lines.append(
                f"  faults injected by the {side}: {seen.get('faults_total', 0)} of"
                f" {seen.get('calls', 0)} calls ({kinds}); latency spikes {seen.get('spikes', 0)}"
            )
        fallbacks = (
            ", ".join(f"{cause} {count:.0f}" for cause, count in sorted(self.fallbacks.items())) or "none"
        )
        lines.append(f"  fallbacks to legacy: {sum(self.fallbacks.values()):.0f} ({fallbacks})")
        if self.retries:
            retries = ", ".join(f"{k} {v:.0f}" for k, v in sorted(self.retries.items()))
            lines.append(f"  upstream retries: {sum(self.retries.values()):.0f} ({retries})")
        lines += [
            f"  answers checked: {self.answers_checked}",
            f"  answers invalid: {self.invalid} (no answer at all: {self.no_answer})",
            f"  500s: {self.server_errors_500}",
            f"  tracebacks in the proxy's log: {self.proxy_log_tracebacks}",
        ]
        for example in self.examples:
            lines.append("  INVALID " + orjson.dumps(example).decode())
        lines.append("PASS" if self.passed else "FAIL")
        return "\n".join(lines)


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> Report:
    python = sys.executable
    password = secrets.token_hex(12)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CHAOS_PDT_PASSWORD": secrets.token_hex(12),
        "CHAOS_LEGACY_PASSWORD": secrets.token_hex(12),
        "PROXY_ADMIN_TOKEN": secrets.token_hex(16),
    }
    for leftover in ("PROXY_CONFIG", "PROXY_TENANTS_FILE", "PROXY_DATA_DIR"):
        env.pop(leftover, None)
    ports = {name: _free_port() for name in ("pdt", "legacy", "proxy")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    judge = Judge.from_directory(ROOT / "mappings")
    report = Report(seconds=args.seconds)
    with tempfile.TemporaryDirectory(prefix="pdt-proxy-chaos-") as scratch:
        directory = Path(scratch)
        config = _write_files(directory, urls["pdt"], urls["legacy"], password)
        simulator = [python, str(HERE), "simulator", "--config", str(config), "--hold-ms", str(HOLD_MS)]
        pdt_argv = [
            *simulator,
            "pdt",
            "--port",
            str(ports["pdt"]),
            "--seed",
            str(args.seed),
            "--fault-rate",
            str(args.fault_rate),
            "--faults",
            args.faults,
            "--spike-rate",
            str(args.spike_rate),
        ]
        legacy_argv = [
            *simulator,
            "legacy",
            "--port",
            str(ports["legacy"]),
            "--seed",
            str(args.seed + 1),
            "--fault-rate",
            str(args.legacy_fault_rate),
        ]
        proxy_argv = [
            python,
            "-m",
            "proxy.cli",
            "--config",
            str(config),
            "serve",
            "--port",
            str(ports["proxy"]),
        ]
        with (
            _started("PDT simulator", pdt_argv, env, directory / "pdt.log") as pdt,
            _started("legacy simulator", legacy_argv, env, directory / "legacy.log") as legacy,
            _started("proxy", proxy_argv, env, directory / "proxy.log") as proxy,
        ):
            _wait_ready(
                [
                    (pdt, urls["pdt"] + "/_simulator/faults"),
                    (legacy, urls["legacy"] + "/_simulator/faults"),
                    (proxy, urls["proxy"] + "/healthz"),
                ]
            )
            before = {side: _faults(urls[side]) for side in ("pdt", "legacy")}
            clients = []
            for index in range(args.users):
                product = PRODUCTS[index % len(PRODUCTS)]
                stage = STAGES[index // len(PRODUCTS) % len(STAGES)]
                clients.append(Client(product, stage, _tenant_id(product, stage), password))
            with contextlib.ExitStack() as closing:
                trace = closing.enter_context(Path(args.trace).open("wb")) if args.trace else None

                def record(exchange: Exchange) -> None:
                    report.add(exchange, judge)
                    if trace is not None:
                        trace.write(orjson.dumps(_traced(exchange)) + b"\n")

                asyncio.run(
                    drive(
                        urls["proxy"],
                        judge,
                        clients,
                        seconds=args.seconds,
                        rng=random.Random(args.seed),
                        sink=record,
                    )
                )
            report.pdt_faults = _since(before["pdt"], _faults(urls["pdt"]))
            report.legacy_faults = _since(before["legacy"], _faults(urls["legacy"]))
            admin_token = env["PROXY_ADMIN_TOKEN"]
            report.fallbacks = _metric_sums(urls["proxy"], "pdt_proxy_fallbacks_total", "cause", admin_token)
            report.retries = _metric_sums(
                urls["proxy"], "pdt_proxy_upstream_retries_total", "upstream", admin_token
            )
        text = proxy.log.read_text(errors="replace")
        report.proxy_log_tracebacks = text.count("Traceback (most recent call last)")
        if args.keep_logs:
            keep = Path(args.keep_logs)
            keep.mkdir(parents=True, exist_ok=True)
            for each in (pdt, legacy, proxy):
                (keep / each.log.name).write_bytes(each.log.read_bytes())
    return report


def _traced(exchange: Exchange) -> dict[str, Any]:
    return {
        "tenant": _tenant_id(exchange.product, exchange.stage),
        "request": f"{exchange.method} {exchange.path}",
        "status": exchange.status,
        "body": exchange.body.decode(errors="replace")[:300],
        "failure": exchange.failure,
    }


def _since(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What a simulator injected during the run (the readiness probes and logins before it excluded)."""
    faults = {
        kind: count - before.get("faults", {}).get(kind, 0)
        for kind, count in after.get("faults", {}).items()
        if count - before.get("faults", {}).get(kind, 0)
    }
    return {
        "calls": after.get("calls", 0) - before.get("calls", 0),
        "spikes": after.get("spikes", 0) - before.get("spikes", 0),
        "faults_total": sum(faults.values()),
        "faults": faults,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="load/chaos.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration (default 30)")
    parser.add_argument("--users", type=int, default=24, help="closed-loop clients (default 24)")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="share of PDT calls faulted (0.3)")
    parser.add_argument("--legacy-fault-rate", type=float, default=0.3, help="share of legacy calls (0.3)")
    parser.add_argument("--faults", default=DEFAULT_FAULTS, help=f"PDT fault mix (default {DEFAULT_FAULTS})")
    parser.add_argument("--spike-rate", type=float, default=0.05, help="PDT calls with a 300-800 ms spike")
    parser.add_argument("--seed", type=int, default=7, help="fault and traffic RNG seed (default 7)")
    parser.add_argument("--json", help="also write the report as JSON to this file")
    parser.add_argument(
        "--trace", help="write every exchange (request, status, body head) as JSON lines here"
    )
    parser.add_argument("--keep-logs", help="copy the simulators' and the proxy's logs to this directory")
    simulator = commands.add_parser("simulator", help="internal: run one simulator for a chaos run")
    simulator.add_argument("target", choices=["pdt", "legacy"])
    simulator.add_argument("--config", required=True)
    simulator.add_argument("--port", type=int, required=True)
    simulator.add_argument("--seed", type=int, default=7)
    simulator.add_argument("--fault-rate", type=float, default=0.3)
    simulator.add_argument("--faults", default=DEFAULT_FAULTS)
    simulator.add_argument("--spike-rate", type=float, default=0.05)
    simulator.add_argument("--hold-ms", type=float, default=HOLD_MS)
    simulator.add_argument("--latency-ms", type=float, default=5.0)
    simulator.add_argument("--jitter-ms", type=float, default=10.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        return _serve_simulator(args)
    if args.seconds <= 0 or args.users < 1:
        raise SystemExit("chaos: --seconds must be positive and --users at least 1")
    report = run(args)
    print(report.render())
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2))
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
