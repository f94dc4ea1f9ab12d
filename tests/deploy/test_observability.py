"""deploy/observability/: the alert rules and the dashboard, checked against the proxy itself.

``promtool`` (Debian's ``prometheus`` package; ``.ci/run`` installs it) checks the rules
and runs their unit tests. The dashboard is loaded, and every metric its queries (and
the rules) name must be one the app really exports: the names come from a ``/metrics``
scrape of a running app after one request, so a renamed metric breaks this test rather
than a panel in production.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from proxy.admin.auth import DEMO_ADMIN_TOKEN
from proxy.composition import create_app
from proxy.config import project_root
from tests.conftest import make_settings

DIRECTORY = project_root() / "deploy" / "observability"
RULES = DIRECTORY / "alerts.yaml"
RULE_TESTS = DIRECTORY / "alerts.test.yaml"
DASHBOARD = DIRECTORY / "dashboard.json"

_METRIC = re.compile(r"\bpdt_proxy_[a-z0-9_]+\b")
# name{matchers}: the label names a selector filters on.
_SELECTOR = re.compile(r"\b(pdt_proxy_[a-z0-9_]+)\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
    "unknown": ("",),
}

EXAMPLE = {"IdentifierId": "pedido-9", "DocumentType": "CPF", "Document": "123.456.789-09", "Name": "Ana"}


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool not installed (Debian package 'prometheus'; .ci/run installs it)")
    return found


@pytest.mark.parametrize(
    "args",
    [["check", "rules", str(RULES)], ["test", "rules", str(RULE_TESTS)]],
    ids=["check", "test"],
)
def test_promtool_accepts_the_rules(args: list[str]) -> None:
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [_promtool(), *args], capture_output=True, text=True, cwd=DIRECTORY, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


class Exported:
    """What a real scrape says (every sample name, and the label names of samples seen),
    plus the label names of each declared metric, for families with no sample yet."""

    def __init__(self, text: str, registry: CollectorRegistry) -> None:
        self.names: set[str] = set()
        self.labels: dict[str, set[str]] = {}
        for family in text_string_to_metric_families(text):
            for suffix in _SUFFIXES.get(family.type, ("",)):
                self.names.add(family.name + suffix)
            for sample in family.samples:
                self.names.add(sample.name)
                self.labels.setdefault(sample.name, set()).update(sample.labels)
        # prometheus_client keeps a family's label names only privately; stable for years.
        names_to_collectors: dict[str, object] = getattr(registry, "_names_to_collectors", {})
        for name, collector in names_to_collectors.items():
            declared = getattr(collector, "_labelnames", None)
            if declared is not None and name in self.names:
                self.labels.setdefault(name, set()).update(declared)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    app = create_app(make_settings(tmp_path_factory.mktemp("scrape")))

    async def scrape() -> str:
        async with app.lifespan():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
                login = await client.post(
                    "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
                )
                headers = {"Authorization": f"Bearer {login.json()['token']}"}
                answer = await client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)
                assert answer.status_code == 200, answer.text
                # The admin token too, for when /metrics asks for a viewer on the public port.
                metrics = await client.get(
                    "/metrics", headers={"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"}
                )
                assert metrics.status_code == 200
                return metrics.text

    return Exported(asyncio.run(scrape()), app.runtime.metrics.registry)


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _dashboard_queries() -> list[str]:
    dashboard = _dashboard()
    queries = [target["expr"] for panel in _panels(dashboard) for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            queries.append(variable["definition"])
    return queries


def _rule_queries() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_the_dashboard_loads_and_each_panel_is_placed_and_queried() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"]
    assert dashboard["title"]
    panels = list(_panels(dashboard))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] != "row":
            assert panel["targets"], panel["title"]
            assert all(target["expr"].strip() for target in panel["targets"])
            assert len({target["refId"] for target in panel["targets"]}) == len(panel["targets"])


@pytest.mark.parametrize(
    "topic",
    [
        "pdt_proxy_tenant_request_duration_seconds_bucket",  # latency per tenant, product, stage
        "pdt_proxy_requests_total",
        "pdt_proxy_fallbacks_total",
        "pdt_proxy_shadow_comparisons_total",
        "pdt_proxy_circuit_breaker_state",
        "pdt_proxy_legacy_backend_calls_total",
        "pdt_proxy_ledger_commits_total",
    ],
)
def test_the_dashboard_covers(topic: str) -> None:
    assert any(topic in query for query in _dashboard_queries())


@pytest.mark.parametrize(
    ("source", "queries"), [("dashboard", _dashboard_queries()), ("alerts", _rule_queries())]
)
def test_every_metric_named_is_exported_by_the_app(
    exported: Exported, source: str, queries: list[str]
) -> None:
    named = {name for query in queries for name in _METRIC.findall(query)}
    assert named, source
    assert named - exported.names == set(), f"{source} names metrics the app does not export"


@pytest.mark.parametrize(
    ("source", "queries"), [("dashboard", _dashboard_queries()), ("alerts", _rule_queries())]
)
def test_every_label_filtered_or_grouped_on_exists(
    exported: Exported, source: str, queries: list[str]
) -> None:
    checked = 0
    for query in queries:
        used = {name for name in _METRIC.findall(query)}
        known = set().union(*(exported.labels.get(name, set()) for name in used)) | {"le"}
        for name, matchers in _SELECTOR.findall(query):
            if name in exported.labels:
                assert set(_MATCHER_LABEL.findall(matchers)) <= exported.labels[name], (source, query)
                checked += 1
        if all(name in exported.labels for name in used):
            for grouping in _GROUPING.findall(query):
                labels = {label.strip() for label in grouping.split(",") if label.strip()}
                assert labels <= known, (source, query)
                checked += 1
    # The scrape after one request has samples for enough metrics to check most queries.
    assert checked >= 5, source


def test_an_unknown_metric_would_be_caught(exported: Exported) -> None:
    # The check above is not vacuous: a misspelt name is not among the exported ones.
    assert "pdt_proxy_request_total" not in exported.names
    assert "pdt_proxy_requests_total" in exported.names


def test_the_rule_files_are_where_the_readme_says() -> None:
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    for path in (RULES, RULE_TESTS, DASHBOARD):
        assert str(path.relative_to(project_root())) in readme
