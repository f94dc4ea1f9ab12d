"""proxy.observability.multiprocess: the shared directory's life, the merged scrape, dead workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy.observability.multiprocess import (
    ENV_VARIABLE,
    collect,
    directory_from_environment,
    forget_workers,
    private_directory,
    remove_abandoned,
)

# A worker in miniature: its own interpreter, the variable set before prometheus-client
# is imported (as uvicorn's spawned workers have it), the proxy's own Metrics.
_WORKER = """
import sys
from proxy.observability.metrics import Metrics
metrics = Metrics()
for _ in range(int(sys.argv[1])):
    metrics.observe_request(tenant="acme", product="ffr", operation="score", stage="pdt", side="pdt",
                            status=200, duration_s=0.002)
metrics.request_started()
metrics.observe_legacy_call(tenant="acme", product="ffr", at=float(sys.argv[2]))
metrics.breaker_moved(host="pdt", state=sys.argv[3])
"""


def _worker(directory: Path, requests: int, last_call: float, breaker: str) -> int:
    env = {**os.environ, ENV_VARIABLE: str(directory)}
    done = subprocess.run(  # noqa: S603 (this interpreter running a fixed script)
        [sys.executable, "-c", _WORKER, str(requests), str(last_call), breaker], env=env, check=True
    )
    assert done.returncode == 0
    return len(list(directory.glob("counter_*.db")))


def _samples(exposition: bytes) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition.decode()):
        for sample in family.samples:
            found[sample.name] = found.get(sample.name, 0.0) + sample.value
    return found


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, None), ({ENV_VARIABLE: ""}, None), ({ENV_VARIABLE: "/run/metrics"}, Path("/run/metrics"))],
    ids=["unset", "empty", "set"],
)
def test_directory_from_environment(environ: dict[str, str], expected: Path | None) -> None:
    assert directory_from_environment(environ) == expected


@pytest.mark.parametrize("previous", [None, "/elsewhere"], ids=["unset-before", "set-before"])
def test_private_directory_is_fresh_named_then_gone(previous: str | None) -> None:
    environ: dict[str, str] = {} if previous is None else {ENV_VARIABLE: previous}
    with private_directory(environ) as path:
        assert environ[ENV_VARIABLE] == str(path)
        assert list(path.iterdir()) == []
        # Only this user: other users on the host must not read or plant counts.
        assert path.stat().st_mode & 0o777 == 0o700
        (path / "counter_1.db").write_bytes(b"x")
    assert not path.exists()
    assert environ.get(ENV_VARIABLE) == previous


def test_abandoned_directories_go_and_live_ones_stay(tmp_path: Path) -> None:
    names = ["pdt-proxy-metrics-100-abc", "pdt-proxy-metrics-200-def", "pdt-proxy-metrics-x-1", "other-300-x"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "counter_1.db").write_bytes(b"x")

    removed = remove_abandoned(tmp_path, running=lambda pid: pid == 200)

    assert [path.name for path in removed] == ["pdt-proxy-metrics-100-abc"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names[1:])


def test_a_killed_serves_directory_is_removed_at_the_next_start(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    leftover = tmp_path / f"pdt-proxy-metrics-{int(dead.stdout)}-zz"
    leftover.mkdir()
    mine = tmp_path / f"pdt-proxy-metrics-{os.getpid()}-yy"
    mine.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp_path))
        patch.setattr("tempfile.tempdir", None)
        with private_directory({}) as fresh:
            assert fresh.parent == tmp_path
            assert not leftover.exists()
            assert mine.exists()


def test_two_private_directories_never_share() -> None:
    with private_directory({}) as first, private_directory({}) as second:
        assert first != second


def test_collect_merges_every_worker_and_each_gauge_by_its_mode(tmp_path: Path) -> None:
    assert _worker(tmp_path, 3, 1000.0, "open") == 1
    assert _worker(tmp_path, 4, 2000.0, "closed") == 2

    merged = _samples(collect(tmp_path))

    assert merged["pdt_proxy_requests_total"] == 7
    assert merged["pdt_proxy_request_duration_seconds_count"] == 7
    # Each worker left one request in flight: live workers' counts add up.
    assert merged["pdt_proxy_requests_in_flight"] == 2
    # The latest legacy call of any worker.
    assert merged["pdt_proxy_legacy_backend_last_call_timestamp_seconds"] == 2000.0
    # The worst breaker among the workers: one saw PDT's breaker open.
    assert merged["pdt_proxy_circuit_breaker_state"] == 2


def test_a_forgotten_worker_keeps_its_counts_but_not_its_live_gauges(tmp_path: Path) -> None:
    _worker(tmp_path, 3, 1000.0, "open")
    _worker(tmp_path, 4, 2000.0, "closed")
    pids = sorted(int(path.stem.rsplit("_", 1)[1]) for path in tmp_path.glob("counter_*.db"))
    first = pids[0]

    forget_workers([first], tmp_path)

    merged = _samples(collect(tmp_path))
    assert merged["pdt_proxy_requests_total"] == 7
    assert merged["pdt_proxy_requests_in_flight"] == 1
    assert not (tmp_path / f"gauge_livesum_{first}.db").exists()
    assert (tmp_path / f"gauge_max_{first}.db").exists()
