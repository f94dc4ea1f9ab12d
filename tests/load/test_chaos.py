"""The chaos check: the proxy under load with faulty upstreams answers only legacy-valid bodies."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from proxy.config import project_root
from proxy.mapping.catalog import load_catalog
from proxy.simulators.middleware import FAULT_MARKER

LOAD = project_root() / "load"
JSON = "application/json; charset=utf-8"


@pytest.fixture
def traffic(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # load/ is scripts, not a package: imported the way chaos.py imports it.
    monkeypatch.syspath_prepend(str(LOAD))
    return importlib.import_module("chaos_traffic")


def test_a_chaos_run_answers_every_request_in_its_legacy_shape(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    command = [sys.executable, str(LOAD / "chaos.py"), "--seconds", "8", "--users", "12", "--seed", "7"]
    run = subprocess.run(  # noqa: S603 (this interpreter running the project's own script)
        [*command, "--json", str(report_file)], capture_output=True, text=True, timeout=180, check=False
    )
    assert report_file.exists(), run.stdout + run.stderr
    report: dict[str, Any] = json.loads(report_file.read_text())
    assert report["invalid"] == 0, run.stdout
    assert report["status_500"] == 0, run.stdout
    assert run.returncode == 0, run.stdout + run.stderr
    assert report["answers_checked"] > 100
    # The faults really happened, of many kinds, on both sides.
    assert report["faults_injected"] > 0
    assert len(report["pdt_simulator"]["faults"]) >= 5, report["pdt_simulator"]
    assert report["legacy_simulator"]["faults_total"] > 0
    assert any(int(status) >= 500 for status in report["by_status"])
    # Three products times four stages, each one answered.
    assert len(report["by_stage"]) == 12


def test_every_body_an_error_table_renders_is_accepted(traffic: ModuleType) -> None:
    catalog = load_catalog(project_root() / "mappings")
    judge = traffic.Judge(catalog)
    for name, product in catalog.products.items():
        for kind in product.errors.entries:
            status, body = product.errors.render(kind, trace_id="00-ab-cd-00", field_errors={"Cpf": ["bad"]})
            verdict = judge.check(name, traffic.AUTHENTICATION, status, JSON, body)
            assert verdict.valid, (name, kind, verdict.problems)


@pytest.mark.parametrize(
    ("product", "status", "body", "problem"),
    [
        # PDT's own error shape on a v1-family route: a leaked upstream body.
        ("ffr", 503, b'{"message": "An error has occurred."}', "matches none"),
        ("datatrust-v1", 418, b'{"message": "teapot"}', "no entry"),
        ("datatrust-v1", 502, b"<html>Bad gateway</html>", "not JSON"),
        ("datatrust-v1", 503, b'{"message": "%s"}' % FAULT_MARKER.encode(), "injected-fault"),
        ("ffr", 500, b'{"Message": "Traceback (most recent call last):"}', "stack trace"),
        ("datatrust-v1", 200, b'{"score": "high"}', "fails transaction.response.json"),
    ],
)
def test_what_a_legacy_client_could_not_read_is_refused(
    traffic: ModuleType, product: str, status: int, body: bytes, problem: str
) -> None:
    judge = traffic.Judge.from_directory(project_root() / "mappings")
    verdict = judge.check(
        product, "POST /datatrust" if status == 200 else "authentication", status, JSON, body
    )
    assert not verdict.valid
    assert any(problem in text for text in verdict.problems), verdict.problems


def test_a_success_with_another_status_than_declared_is_refused(traffic: ModuleType) -> None:
    judge = traffic.Judge.from_directory(project_root() / "mappings")
    verdict = judge.check(
        "datatrust-v1", "authentication", 201, JSON, b'{"token": "t", "expiresInSeconds": 1}'
    )
    assert verdict.problems == ("success status 201, the operation declares 200",)


def test_an_error_kind_added_to_a_table_is_accepted_without_code_changes(
    traffic: ModuleType, tmp_path: Path
) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_root() / "mappings", mappings)
    table_file = mappings / "v1-family" / "errors.yaml"
    table = yaml.safe_load(table_file.read_text(encoding="utf-8"))
    table["errors"]["chaos_test_kind"] = {"status": 429, "body": {"Message": "Slow down, {tenant}."}}
    table_file.write_text(yaml.safe_dump(table), encoding="utf-8")
    judge = traffic.Judge.from_directory(mappings)
    accepted = judge.check("mobile-trust", "authentication", 429, JSON, b'{"Message": "Slow down, acme."}')
    assert accepted.valid, accepted.problems
    refused = judge.check("mobile-trust", "authentication", 429, JSON, b'{"Message": "Go away."}')
    assert not refused.valid


def test_generated_cpfs_carry_correct_check_digits(traffic: ModuleType) -> None:
    import random

    from stdnum.br import cpf

    rng = random.Random(1)
    for _ in range(200):
        assert cpf.is_valid(traffic.cpf(rng))
