"""The fleet check: three replicas behind nginx on one PostgreSQL and one Redis.

One short run of ``load/fleet.py`` (module fixture) and a test per row of its table;
then the pieces the run is built of: its verdict arithmetic, the nginx configuration,
the run's tenants, the Redis and PostgreSQL helpers, and the cleanup of children.
nginx, PostgreSQL and Redis are CI's (``.ci/run``): missing, the run exits 2 and
every row test fails; none is skipped.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from proxy.config import project_root
from tests.db.postgres import PG_DSN

LOAD = project_root() / "load"
# Short phases and a 2 s breaker: the run takes about 55 s on a busy 2-core machine.
SHORT_RUN = ["--seconds", "2", "--outage-s", "3", "--breaker-open-s", "2", "--capacity-s", "0"]
ROWS = ["token", "stage", "rate_limit", "ledger", "kill", "rolling_restart", "pdt_outage"]


# Rows that hold once other branches of issue 14 are merged; strict, so the merge
# that makes one hold fails here until its marker is removed.
@pytest.fixture(scope="module")
def modules() -> Iterator[dict[str, ModuleType]]:
    # load/ is scripts, not a package: imported the way fleet.py imports them.
    sys.path.insert(0, str(LOAD))
    try:
        yield {name: importlib.import_module(name) for name in ("fleet", "fleet_report", "fleet_procs")}
    finally:
        sys.path.remove(str(LOAD))


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    report = tmp_path_factory.mktemp("fleet") / "report.json"
    run = _run_fleet([*SHORT_RUN, "--postgres", PG_DSN, "--json", str(report)], timeout_s=240)
    if not report.exists():
        # pytest.fail, not an assertion: the rows awaiting other branches must not
        # pass as expected failures when the run itself could not start.
        pytest.fail(f"load/fleet.py exited {run.returncode} without a report:\n{run.stdout}\n{run.stderr}")
    result: dict[str, Any] = json.loads(report.read_text())
    result["returncode"] = run.returncode
    result["stdout"] = run.stdout
    return result


def _run_fleet(arguments: list[str], *, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """``load/fleet.py`` as a child; one that overstays gets SIGTERM first, so its
    ``finally`` stops every process it started and drops its database (SIGKILL, what
    ``subprocess.run``'s timeout sends, would leave them)."""
    with subprocess.Popen(  # noqa: S603 (this interpreter running the project's own script)
        [sys.executable, str(LOAD / "fleet.py"), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            stdout, stderr = child.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            stdout, stderr = child.communicate(timeout=60)
            pytest.fail(f"load/fleet.py ran past {timeout_s:.0f} s and was stopped:\n{stdout}\n{stderr}")
        return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


@pytest.mark.parametrize("key", ROWS)
def test_each_row_of_the_fleet_run_holds(fleet_run: dict[str, Any], key: str) -> None:
    rows = {row["key"]: row for row in fleet_run["rows"]}
    assert list(rows) == ROWS, fleet_run["stdout"]
    assert rows[key]["held"], f"{rows[key]['check']}: {rows[key]['figure']}\n{fleet_run['stdout']}"


def test_the_run_exits_non_zero_exactly_when_a_row_is_missed(fleet_run: dict[str, Any]) -> None:
    every_row_held = all(row["held"] for row in fleet_run["rows"])
    assert (fleet_run["returncode"] == 0) == every_row_held, fleet_run["stdout"]
    # One table: a line per row, each with its verdict.
    # (The closing "whole run: …; every row held" line is the summary, not a row.)
    lines = fleet_run["stdout"].splitlines()
    verdicts = [
        line for line in lines if line.endswith(("held", "MISSED")) and not line.startswith("whole run")
    ]
    assert len(verdicts) == len(ROWS)


@pytest.mark.parametrize(
    ("flag", "value", "named"),
    [
        ("--redis", "redis://127.0.0.1:1/0", "Redis is not reachable"),
        ("--postgres", "host=127.0.0.1 port=1 user=postgres dbname=postgres", "PostgreSQL is not reachable"),
        ("--redis", "redis://10.9.8.7:6379/0", "loopback"),
    ],
)
def test_a_missing_service_stops_the_run_with_status_2(flag: str, value: str, named: str) -> None:
    run = _run_fleet([*SHORT_RUN, flag, value], timeout_s=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert named in run.stderr


# -- the verdicts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "burst", "seconds", "allowance"),
    [(20.0, 20, 0.0, 20.0), (20.0, 20, 2.0, 60.0), (200.0, 400, 1.5, 700.0), (0.5, 1, 10.0, 6.0)],
)
def test_a_token_bucket_admits_its_burst_then_its_rate(
    modules: dict[str, ModuleType], rate: float, burst: int, seconds: float, allowance: float
) -> None:
    assert modules["fleet_report"].token_bucket_allowance(rate, burst, seconds) == pytest.approx(allowance)


@pytest.mark.parametrize(("rate", "burst", "seconds"), [(0.0, 20, 1.0), (20.0, 0, 1.0), (20.0, 20, -1.0)])
def test_a_bucket_without_rate_burst_or_time_is_refused(
    modules: dict[str, ModuleType], rate: float, burst: int, seconds: float
) -> None:
    with pytest.raises(ValueError, match="positive"):
        modules["fleet_report"].token_bucket_allowance(rate, burst, seconds)


@pytest.mark.parametrize(
    ("measured", "expected", "held"),
    [
        (60, 60.0, True),
        (66, 60.0, True),
        (54, 60.0, True),
        (67, 60.0, False),
        (53, 60.0, False),
        (176, 60.0, False),
    ],
)
def test_within_ten_percent(
    modules: dict[str, ModuleType], measured: float, expected: float, held: bool
) -> None:
    assert modules["fleet_report"].within(measured, expected, 0.10) is held


@pytest.mark.parametrize(
    ("answered", "recorded", "missing", "extra", "duplicated", "exact", "nothing_lost"),
    [
        (["a", "b"], {"a": 1, "b": 1}, 0, 0, 0, True, True),
        (["a", "b"], {"a": 1}, 1, 0, 0, False, False),
        # Committed, then the replica died before answering: not a loss.
        (["a"], {"a": 1, "z": 1}, 0, 1, 0, False, True),
        (["a"], {"a": 2}, 0, 0, 1, False, False),
        ([], {}, 0, 0, 0, True, True),
    ],
)
def test_the_ledger_reconciliation(
    modules: dict[str, ModuleType],
    answered: list[str],
    recorded: dict[str, int],
    missing: int,
    extra: int,
    duplicated: int,
    exact: bool,
    nothing_lost: bool,
) -> None:
    diff = modules["fleet_report"].ledger_diff(answered, recorded)
    assert (diff.missing, diff.extra, diff.duplicated) == (missing, extra, duplicated)
    assert (diff.exact, diff.nothing_lost) == (exact, nothing_lost)
    assert diff.answered == len(answered)
    assert diff.recorded == sum(recorded.values())


def test_a_request_id_sent_twice_cannot_be_reconciled(modules: dict[str, ModuleType]) -> None:
    with pytest.raises(ValueError, match="unique"):
        modules["fleet_report"].ledger_diff(["a", "a"], {"a": 1})


@pytest.mark.parametrize(
    ("peak", "per_core", "cores", "headroom", "replicas"),
    [
        (100.0, 700.0, 1.0, 0.6, 2),  # one replica would do; two so one can be lost
        (500.0, 700.0, 1.0, 0.6, 3),
        (2000.0, 700.0, 1.0, 0.6, 6),
        (2000.0, 700.0, 2.0, 0.6, 4),
    ],
)
def test_replicas_for_a_peak_keep_headroom_and_one_spare(
    modules: dict[str, ModuleType], peak: float, per_core: float, cores: float, headroom: float, replicas: int
) -> None:
    needed = modules["fleet_report"].replicas_needed(
        peak, per_core, cores_per_replica=cores, headroom=headroom
    )
    assert needed == replicas


def test_the_table_has_a_row_per_check_with_its_verdict(modules: dict[str, ModuleType]) -> None:
    report = modules["fleet_report"]
    rows = [report.Row("a", "first check", "3/3", True), report.Row("b", "second", "176 of 60", False)]
    lines = report.render_table(rows).splitlines()
    assert lines[0].split() == ["check", "measured", "verdict"]
    assert lines[2].startswith("first check")
    assert lines[2].endswith("held")
    assert lines[3].startswith("second")
    assert lines[3].endswith("MISSED")
    assert "176 of 60" in lines[3]
    assert report.all_held(rows) is False
    assert report.all_held(rows[:1]) is True
    assert report.all_held([]) is False


# -- the fleet's parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(("keepalive", "pooled"), [(0, False), (16, True)])
def test_nginx_routes_around_a_failed_replica_and_stays_on_loopback(
    modules: dict[str, ModuleType], tmp_path: Path, keepalive: int, pooled: bool
) -> None:
    conf = modules["fleet_procs"].nginx_conf(
        prefix=tmp_path,
        listen_port=8000,
        upstream_ports=[8001, 8002, 8003],
        fail_timeout_s=2,
        keepalive=keepalive,
    )
    assert "listen 127.0.0.1:8000;" in conf
    for port in (8001, 8002, 8003):
        assert f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" in conf
    # Passive health checks; a POST that reached a replica is never sent again.
    assert "proxy_next_upstream error timeout;" in conf
    assert "non_idempotent" not in conf
    assert "proxy_next_upstream_tries 3;" in conf
    assert f"pid {tmp_path / 'nginx.pid'};" in conf
    assert ("keepalive 16;" in conf) is pooled
    assert ("proxy_http_version 1.1;" in conf) is pooled
    assert "user " not in conf


def test_nginx_needs_a_replica(modules: dict[str, ModuleType], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one"):
        modules["fleet_procs"].nginx_conf(prefix=tmp_path, listen_port=1, upstream_ports=[], fail_timeout_s=2)


def test_the_run_tenants_cover_every_product_and_only_one_is_limited(modules: dict[str, ModuleType]) -> None:
    fleet = modules["fleet"]
    tenants = fleet._tenant_file("flabc", "$argon2id$hash")["tenants"]
    assert {product for entry in tenants for product in entry["products"]} == {
        "datatrust-v1",
        "ffr",
        "mobile-trust",
    }
    assert all(entry["id"].startswith("flabc-") for entry in tenants)
    limited = [entry["id"] for entry in tenants if "rate_limit" in entry]
    assert limited == ["flabc-limited"]
    accounts = [account["username"] for entry in tenants for account in entry["pdt"].values()]
    assert len(accounts) == len(set(accounts)), "the proxy refuses PDT accounts shared by tenants"
    assert all(entry["pack"] == "datatrust" for entry in tenants if entry["strategy"] == "pack")


def test_redis_answers_a_ping(modules: dict[str, ModuleType]) -> None:
    assert modules["fleet_procs"].redis_call("redis://127.0.0.1:6379/0", "PING") == b"PONG"


def test_the_run_database_is_made_and_dropped(modules: dict[str, ModuleType]) -> None:
    with modules["fleet_procs"].postgres_database(PG_DSN) as dsn:
        name = conninfo_to_dict(dsn)["dbname"]
        with psycopg.connect(dsn) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == (name,)
    with psycopg.connect(PG_DSN) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


@pytest.mark.parametrize(
    ("name", "busy", "dropped"),
    [
        ("pdt_fleet_1000_ab12cd34", False, True),  # an hour and more old, nobody on it
        ("pdt_fleet_1000_ab12cd34", True, False),  # someone is connected
        ("pdt_fleet_4000_ab12cd34", False, False),  # a run that may still be going
        ("pdt_fleet_ab12cd34", False, False),  # no time stamp: not ours to judge
        ("test", False, False),
    ],
)
def test_only_databases_abandoned_by_killed_runs_are_swept(
    modules: dict[str, ModuleType], name: str, busy: bool, dropped: bool
) -> None:
    found = modules["fleet_procs"].abandoned([name], [name] if busy else [], now=5000.0)
    assert (found == [name]) is dropped


def test_stopping_a_child_ends_its_whole_process_group(
    modules: dict[str, ModuleType], tmp_path: Path
) -> None:
    procs = modules["fleet_procs"]
    pid_file = tmp_path / "grandchild.pid"
    # A parent that ignores SIGTERM and leaves a grandchild behind: the worst case.
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    child = procs.Child(
        "stubborn", [sys.executable, "-c", script], dict(os.environ), tmp_path / "log", tmp_path
    )
    child.start()
    while not pid_file.exists() or not pid_file.read_text():
        assert child.running, child.tail()
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    child.stop(timeout_s=0.5)
    assert not child.running
    for _ in range(100):
        if not _alive(grandchild):
            break
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
