"""Benchmark: the proxy against two reference proxies, measured in the same run.

    python load/bench.py [--seconds 10] [--connections 32]

Starts a static PDT stand-in (load/upstream_stub.py), then, one at a time and
pinned to CPU 0: the proxy (one worker; Data Trust v1 on the pack strategy and on
the modules strategy), the naive FastAPI + httpx reference and the minimal ASGI +
aiohttp reference (load/references.py). The load generator and the stub share
CPU 1. For each target it prints:

- requests/s at saturation (closed loop, wrk when installed);
- CPU microseconds per request (utime + stime of the server process tree, /proc);
- added latency p50/p99: open loop at half of that target's saturation, minus the
  stub's own latency at the same rate;
- the proxy's ratio to each reference.

The shadow stage: two more tenants on the same proxy, one in ``legacy`` stage (the
answer comes from the legacy backend, here the stub standing in for Data Trust
v1's) and one in ``shadow`` stage (the same legacy answer, and PDT's pack plus the
comparison and its stored result beside it, on the same core). Their added
latency subtracts the stub's legacy route; the shadow's own cost is the p50 gap
between the two at the same arrival rate (the bar: ≤ 0.5 ms), and their
throughput ratio is what running the PDT side costs at saturation, where the
shadow queue also sheds samples (counted in the samples line).

Logins, on the same proxy process as the pack row: repeated valid logins of one
user at saturation (the bar: >= 2,000/s on one worker), and a client that logs in
before every call, as logins-and-calls pairs per second over the pack row's
call-only rate (the bar: >= 40 %). ``--logins-only`` measures just these three.

The proxy (pack) is measured again with the usage ledger off (``ledger.enabled:
false``): the ratio is the cost of metering with group commit, and the writer's
batch sizes (``GET /admin/ledger/stats``) show how many records each commit carried.

Then the proxy with ``--workers 2`` (unpinned: on 2 cores the generator and the
stub compete with it, so the figure shows contention, not scaling) and the RSS of
a worker after the runs. Numbers vary run to run on a shared VM by ±15%; compare
ratios taken in one run, not absolute figures across runs.

``--instructions`` prints, instead of the table, the figure a shared machine does not
move: instructions per request of the proxy's own work, counted by valgrind's
callgrind around load/profile_hot_path.py (pack and modules strategies, the stub as
PDT, ledger on), then per piece of the request path (load/profile_components.py).
Needs valgrind; a run takes minutes, most of it valgrind's start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadgen import closed_loop, login_then_call, open_loop, percentile

ROOT = Path(__file__).resolve().parent.parent
LOAD = Path(__file__).resolve().parent
BODY: dict[str, object] = {
    "IdentifierId": "bench",
    "Document": "123.456.789-09",
    "Email": "bench@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
PATH = "/products/v1/datatrust"
# The PDT call behind the pack strategy: the stub's own latency, subtracted from each target's.
PDT_PATH = "/v1/packs/datatrust"
# The legacy backend's route behind the legacy and shadow stages (the stub answers it too).
LEGACY_PATH = PATH
LOGIN_PATH = "/products/v1/authentication"
LOGIN_BODY: dict[str, object] = {"Username": "bench-pack", "Password": "bench-secret"}


@dataclass
class Measured:
    name: str
    rate: float
    cpu_us: float
    p50_ms: float
    p99_ms: float
    errors: int


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def _server(
    argv: list[str], env: dict[str, str], ready: str, cpu: int | None
) -> Iterator[subprocess.Popen[bytes]]:
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    process = subprocess.Popen(  # noqa: S603 (this interpreter running our own scripts)
        [*prefix, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise SystemExit(
                    f"{argv}: exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            with contextlib.suppress(httpx.TransportError):
                httpx.get(ready, timeout=1)
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{argv}: never became ready")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _setup(directory: Path, upstream: str | None, *, ledger: bool = True) -> Path:
    """The bench's settings and tenants; ``upstream`` None leaves PDT and the legacy
    backends to the built-in simulators (load/profile_hot_path.py uses that)."""
    from proxy.tenants import hash_password

    digest = hash_password("bench-secret")
    tenants = "".join(
        f"  - id: bench-{strategy}\n    name: Benchmark ({strategy})\n    products: [datatrust-v1]\n"
        f"    strategy: {strategy}\n"
        + ("    pack: datatrust\n" if strategy == "pack" else "")
        + f"    users: [{{username: bench-{strategy}, password_hash: '{digest}'}}]\n"
        # Each tenant its own upstream account: the proxy refuses shared ones.
        + f"    pdt:\n      prd: {{username: bench-{strategy}-pdt, password: {{env: BENCH_PDT_PASSWORD}}}}\n"
        for strategy in ("pack", "modules")
    ) + "".join(_staged_tenant(stage, digest) for stage in ("legacy", "shadow"))
    (directory / "tenants.yaml").write_text("tenants:\n" + tenants, encoding="utf-8")
    config = directory / ("proxy.yaml" if ledger else "proxy-no-ledger.yaml")
    text = (
        f"tenants_file: {directory / 'tenants.yaml'}\ndata_dir: {directory / 'data'}\n"
        "logging: {level: WARNING}\n"
        # The bench drives one tenant far past any real one: the limiter is still
        # consulted on every request (its cost is measured), it just never refuses.
        "server: {tenant_rate_limit: {requests_per_s: 1000000000, burst: 1000000000}}\n"
        f"ledger: {{enabled: {'true' if ledger else 'false'}}}\n"
    )
    if upstream is not None:
        text += (
            f"pdt:\n  environments:\n    prd: {{base_url: '{upstream}'}}\n"
            f"    hml: {{base_url: '{upstream}'}}\n"
            # The stub is the legacy backend too: the legacy and shadow stages then pay for
            # the proxy's forwarding, not for the built-in legacy simulator's work.
            f"legacy:\n  environments:\n    prd: {{base_url: '{upstream}'}}\n"
            f"    hml: {{base_url: '{upstream}'}}\n"
        )
    config.write_text(text, encoding="utf-8")
    return config


def _staged_tenant(stage: str, digest: str) -> str:
    """A pack tenant in ``stage``, logging in to the legacy backend with its own account."""
    return (
        f"  - id: bench-{stage}\n    name: Benchmark ({stage} stage)\n    products: [datatrust-v1]\n"
        f"    strategy: pack\n    pack: datatrust\n    stage: {stage}\n"
        f"    users: [{{username: bench-{stage}, password_hash: '{digest}'}}]\n"
        f"    pdt:\n      prd: {{username: bench-{stage}-pdt, password: {{env: BENCH_PDT_PASSWORD}}}}\n"
        f"    legacy:\n      prd: {{username: bench-{stage}-legacy, "
        "password: {env: BENCH_LEGACY_PASSWORD}}\n"
    )


def _measure(
    name: str,
    url: str,
    authorization: str,
    pid: int,
    args: argparse.Namespace,
    upstream: str,
    direct_path: str = PDT_PATH,
    settle: Callable[[], None] | None = None,
) -> Measured:
    closed_loop(url, BODY, authorization, seconds=2, connections=args.connections)  # warm-up
    before = _tree_cpu_seconds(pid)
    result = closed_loop(url, BODY, authorization, seconds=args.seconds, connections=args.connections)
    cpu = _tree_cpu_seconds(pid) - before
    if settle is not None:
        settle()  # work the closed loop left queued finishes before latency is measured
    rate = max(result.rate / 2, 1.0)
    proxied = open_loop(url, BODY, authorization, rate=rate, seconds=args.seconds / 2)
    direct = open_loop(upstream + direct_path, {}, "Bearer x", rate=rate, seconds=args.seconds / 2)
    return Measured(
        name,
        result.rate,
        cpu / max(result.requests, 1) * 1e6,
        (proxied.p(50) - direct.p(50)) * 1000,
        (proxied.p(99) - direct.p(99)) * 1000,
        result.errors + proxied.errors,
    )


def _ledger_batches(base: str, admin_token: str) -> str:
    seen = httpx.get(f"{base}/admin/ledger/stats", headers={"Authorization": f"Bearer {admin_token}"}).json()
    mean = seen["records"] / max(seen["batches"], 1)
    return (
        f"ledger group commit (SQLite): {seen['records']:,} records in {seen['batches']:,} commits, "
        f"mean {mean:.1f} per commit, largest {seen['largest_batch']}"
    )


def _shadow_added(base: str, tokens: dict[str, str], rate: float, seconds: float, admin_token: str) -> str:
    """p50 of the legacy and the shadow stage at one arrival rate: what the shadow adds to the answer.

    Both run at the same rate (the lower stage's half saturation) so the gap is the
    shadow's own cost, not a difference in load; the two stages alternate in two
    rounds so a drift of the shared machine falls on both.
    """
    _shadow_drained(base, admin_token)
    latencies: dict[str, list[float]] = {"legacy": [], "shadow": []}
    for _ in range(2):
        for stage, found in latencies.items():
            run = open_loop(base + PATH, BODY, tokens[stage], rate=rate, seconds=seconds / 4)
            found.extend(run.latencies_s)
    legacy, shadow = (percentile(latencies[stage], 50) * 1000 for stage in ("legacy", "shadow"))
    return (
        f"shadow vs legacy stage, both at {rate:,.0f} req/s: p50 {legacy:.2f} -> {shadow:.2f} ms, "
        f"shadow adds {shadow - legacy:+.2f} ms p50 (bar: <= 0.5 ms)"
    )


def _shadow_counts(base: str, admin_token: str) -> dict[str, float]:
    """The bench-shadow tenant's samples by outcome or drop reason, from the proxy's /metrics
    (a viewer's to read on the public port: the admin token is one)."""
    labels = {"pdt_proxy_shadow_comparisons_total{": "outcome", "pdt_proxy_shadow_dropped_total{": "reason"}
    counts: dict[str, float] = {}
    scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {admin_token}"})
    for line in scraped.text.splitlines():
        label = next((labels[name] for name in labels if line.startswith(name)), None)
        if label is None or 'tenant="bench-shadow"' not in line:
            continue
        series, _, value = line.rpartition(" ")
        key = series.split(f'{label}="', 1)[1].split('"', 1)[0]
        counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def _shadow_drained(base: str, admin_token: str) -> None:
    """Wait until the shadow queue a closed loop filled is empty (its counters stop moving).

    Its backlog competes for the core; an open loop started before it drains
    measures the backlog, not the stage.
    """
    deadline = time.monotonic() + 30
    seen = -1.0
    while time.monotonic() < deadline:
        now = sum(_shadow_counts(base, admin_token).values())
        if now == seen:
            return
        seen = now
        time.sleep(0.3)


def _shadow_samples(base: str, admin_token: str) -> str:
    """How many shadow samples were compared and how many shed."""
    counts = _shadow_counts(base, admin_token)
    shown = ", ".join(f"{key} {value:,.0f}" for key, value in sorted(counts.items())) or "none"
    return f"shadow samples (bench-shadow, sample rate 1.0): {shown}"


def _soak(base: str, pid: int, args: argparse.Namespace, every: float = 30.0) -> str:
    """The pack path at saturation for ``args.soak`` seconds, RSS after each slice.

    It prints the samples and the growth over the second half rather than a
    verdict: on a shared VM the allocator moves a few MB either way."""
    token = _token(base, "bench-pack")
    samples = [_rss_mb(pid)]
    served = errors = 0
    started = time.monotonic()
    while (left := args.soak - (time.monotonic() - started)) > 0:
        result = closed_loop(base + PATH, BODY, token, seconds=min(every, left), connections=args.connections)
        served += result.requests
        errors += result.errors
        samples.append(_rss_mb(pid))
    half = samples[len(samples) // 2]
    return (
        f"soak, pack, {args.soak:.0f} s: {served:,} requests, {errors} errors; "
        f"worker RSS every {every:.0f} s (MB): {' '.join(f'{mb:.0f}' for mb in samples)}; "
        f"second half grew {samples[-1] - half:+.1f} MB, peak {max(samples):.0f} MB (bar: <= 150 MB, steady)"
    )


def _login_rows(base: str, pid: int, args: argparse.Namespace, calls: Measured) -> list[str]:
    """Repeated valid logins, and a client logging in before each call, beside ``calls``.

    Each row also gives its rate per core from the proxy's own CPU time: on a shared
    machine throughput moves with the neighbours' load between two rows, CPU per
    request much less, so the CPU ratio is the steadier comparison.
    """
    url = base + LOGIN_PATH
    closed_loop(url, LOGIN_BODY, "", seconds=2, connections=args.connections)  # warm-up
    before = _tree_cpu_seconds(pid)
    logins = closed_loop(url, LOGIN_BODY, "", seconds=args.seconds, connections=args.connections)
    login_us = (_tree_cpu_seconds(pid) - before) / max(logins.requests, 1) * 1e6
    token = _token(base, "bench-pack").removeprefix("Bearer ")
    before = _tree_cpu_seconds(pid)
    both = login_then_call(
        base,
        (LOGIN_PATH, LOGIN_BODY, "token"),
        (PATH, BODY),
        token=token,
        seconds=args.seconds,
        connections=args.connections,
    )
    pair_us = (_tree_cpu_seconds(pid) - before) / max(both.requests / 2, 1) * 1e6
    pairs = both.rate / 2
    return [
        f"logins, repeated valid (one user, one worker): {logins.rate:,.0f}/s, {login_us:,.0f} CPU us/login "
        f"(= {1e6 / max(login_us, 1):,.0f}/s per core), {logins.errors} errors (bar: >= 2,000/s)",
        f"login before every call (pack): {pairs:,.0f} login+call pairs/s, {pair_us:,.0f} CPU us/pair, "
        f"{both.errors} errors; {pairs / calls.rate:.0%} of call-only {calls.rate:,.0f} req/s, "
        f"{calls.cpu_us / max(pair_us, 1):.0%} by CPU per request (bar: >= 40%)",
    ]


def _token(base: str, user: str) -> str:
    answer = httpx.post(
        f"{base}/products/v1/authentication", json={"Username": user, "Password": "bench-secret"}
    )
    answer.raise_for_status()
    return f"Bearer {answer.json()['token']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--logins-only",
        action="store_true",
        help="only the pack row and the two login rows (one proxy process, a short run)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead of the table: the pack path at saturation for SECONDS, RSS sampled every 30 s",
    )
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="REQUESTS",
        help="instead of the table: instructions per request under callgrind, over REQUESTS requests",
    )
    args = parser.parse_args()
    if args.instructions:
        print("\n".join(_instruction_rows(args.instructions)))
        return
    os.sched_setaffinity(0, {1})  # the generator (and wrk, its child) stay off the proxy's core
    python = sys.executable
    env = {
        **os.environ,
        "BENCH_PDT_PASSWORD": secrets.token_hex(8),
        "BENCH_LEGACY_PASSWORD": secrets.token_hex(8),
        "PYTHONPATH": str(ROOT),
        "PROXY_ADMIN_TOKEN": secrets.token_hex(16),
    }
    results: list[Measured] = []
    extra: list[str] = []
    stub_port = _free_port()
    upstream = f"http://127.0.0.1:{stub_port}"
    with (
        tempfile.TemporaryDirectory() as scratch,
        _server(
            [python, str(LOAD / "upstream_stub.py"), "--port", str(stub_port)], env, upstream + "/", cpu=1
        ),
    ):
        config = _setup(Path(scratch), upstream)
        env["PROXY_CONFIG"] = str(config)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        serve = [python, "-m", "proxy.cli", "serve", "--port", str(port)]
        if args.soak:
            with _server(serve, env, base + "/healthz", cpu=0) as proxy:
                print(_soak(base, proxy.pid, args))
            return
        if args.logins_only:
            with _server(serve, env, base + "/healthz", cpu=0) as proxy:
                pack = _measure(
                    "proxy (pack)", base + PATH, _token(base, "bench-pack"), proxy.pid, args, upstream
                )
                rows = _login_rows(base, proxy.pid, args, pack)
            print(
                f"proxy (pack) call-only: {pack.rate:,.0f} req/s, {pack.cpu_us:,.0f} CPU us/req, "
                f"{pack.errors} errors"
            )
            print("\n".join(rows))
            return
        with _server(serve, env, base + "/healthz", cpu=0) as proxy:
            for strategy in ("pack", "modules"):
                token = _token(base, f"bench-{strategy}")
                results.append(_measure(f"proxy ({strategy})", base + PATH, token, proxy.pid, args, upstream))
            extra.extend(_login_rows(base, proxy.pid, args, results[0]))
            tokens = {stage: _token(base, f"bench-{stage}") for stage in ("legacy", "shadow")}
            drained = functools.partial(_shadow_drained, base, env["PROXY_ADMIN_TOKEN"])
            for stage, token in tokens.items():
                results.append(
                    _measure(
                        f"proxy ({stage} stage)",
                        base + PATH,
                        token,
                        proxy.pid,
                        args,
                        upstream,
                        LEGACY_PATH,
                        drained,
                    )
                )
            staged = min(item.rate for item in results[-2:]) / 2
            extra.append(_shadow_added(base, tokens, staged, args.seconds, env["PROXY_ADMIN_TOKEN"]))
            extra.append(_shadow_samples(base, env["PROXY_ADMIN_TOKEN"]))
            extra.append(f"proxy worker RSS after the runs: {_rss_mb(proxy.pid):.0f} MB")
            extra.append(_ledger_batches(base, env["PROXY_ADMIN_TOKEN"]))
        env["PROXY_CONFIG"] = str(_setup(Path(scratch), upstream, ledger=False))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        serve = [python, "-m", "proxy.cli", "serve", "--port", str(port)]
        with _server(serve, env, base + "/healthz", cpu=0) as proxy:
            token = _token(base, "bench-pack")
            results.append(_measure("proxy (pack) unmetered", base + PATH, token, proxy.pid, args, upstream))
        env["PROXY_CONFIG"] = str(config)
        for kind in ("naive", "minimal"):
            ref_port = _free_port()
            ref = f"http://127.0.0.1:{ref_port}"
            argv = [
                python,
                str(LOAD / "references.py"),
                kind,
                "--port",
                str(ref_port),
                "--upstream",
                upstream,
            ]
            with _server(argv, env, ref + "/", cpu=0) as reference:
                results.append(
                    _measure(f"{kind} reference", ref + PATH, "Bearer x", reference.pid, args, upstream)
                )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with _server([*serve[:-1], str(port), "--workers", "2"], env, base + "/healthz", cpu=None) as proxy:
            token = _token(base, "bench-pack")
            closed_loop(base + PATH, BODY, token, seconds=2, connections=args.connections)
            two = closed_loop(base + PATH, BODY, token, seconds=args.seconds, connections=args.connections)
            extra.append(
                f"proxy (pack), --workers 2, unpinned: {two.rate:,.0f} req/s "
                "(2 cores shared with the generator and the stub: contention, not scaling)"
            )
    _print(results, extra, args)


def _callgrind(argv: list[str], directory: Path) -> tuple[str, list[Path]]:
    """Run ``argv`` under callgrind, instrumentation off until the script turns it on;
    its standard output and the parts it dumped, in order."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    command = [
        valgrind,
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={directory}/cg.%p",
        sys.executable,
        *argv,
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    parts = [path for path in directory.glob("cg.*.*") if path.name.rsplit(".", 1)[-1].isdigit()]
    return done.stdout, sorted(parts, key=lambda path: int(path.name.rsplit(".", 1)[-1]))


def _instruction_rows(requests: int) -> list[str]:
    from profile_components import callgrind_instructions

    rows = [f"instructions per request (callgrind, {requests} requests after a warm-up, ledger on)"]
    for strategy in ("pack", "modules"):
        with tempfile.TemporaryDirectory() as scratch:
            argv = [str(LOAD / "profile_hot_path.py"), "--profile", "callgrind", "--repeat", "1"]
            _, parts = _callgrind([*argv, "--requests", str(requests), "--strategy", strategy], Path(scratch))
            if not parts:
                raise SystemExit(f"callgrind wrote no dump for the {strategy} strategy")
            rows.append(f"proxy ({strategy}): {callgrind_instructions(parts[-1]) / requests:>12,.0f}")
    with tempfile.TemporaryDirectory() as scratch:
        argv = [
            str(LOAD / "profile_components.py"),
            "--callgrind",
            "--requests",
            str(requests),
            "--dumps",
            scratch,
        ]
        out, _ = _callgrind(argv, Path(scratch))
    rows.append("\nper piece of the request path (load/profile_components.py):")
    rows.append(out.rstrip())
    return rows


def _print(results: list[Measured], extra: list[str], args: argparse.Namespace) -> None:
    by_name = {item.name: item for item in results}
    tool = "wrk" if shutil.which("wrk") else "aiohttp"
    print(
        f"\nclosed loop: {tool}, {args.connections} connections, {args.seconds:.0f} s;"
        " open loop at 50% of each target's saturation"
    )
    print(
        f"{'target':<22}{'req/s':>9}{'CPU us/req':>12}{'added p50 ms':>14}{'added p99 ms':>14}{'errors':>8}"
    )
    for item in results:
        print(
            f"{item.name:<22}{item.rate:>9,.0f}{item.cpu_us:>12,.0f}{item.p50_ms:>14.2f}{item.p99_ms:>14.2f}"
            f"{item.errors:>8}"
        )
    pack, modules = by_name["proxy (pack)"], by_name["proxy (modules)"]
    naive, minimal = by_name["naive reference"], by_name["minimal reference"]
    print(f"\nproxy (pack) / naive FastAPI+httpx:    {pack.rate / naive.rate:.2f}x throughput")
    print(f"proxy (pack) / minimal ASGI+aiohttp:   {pack.rate / minimal.rate:.2f}x throughput")
    print(f"modules / pack throughput:             {modules.rate / pack.rate:.2f}")
    legacy, shadow = by_name["proxy (legacy stage)"], by_name["proxy (shadow stage)"]
    print(f"shadow / legacy stage throughput:      {shadow.rate / legacy.rate:.2f}")
    unmetered = by_name["proxy (pack) unmetered"]
    cpu, p50 = pack.cpu_us - unmetered.cpu_us, pack.p50_ms - unmetered.p50_ms
    print(
        f"ledger on / off (pack):                {pack.rate / unmetered.rate:.2f}x throughput, "
        f"{cpu:+,.0f} CPU us/req, {p50:+.2f} ms added p50"
    )
    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
