"""The startup line: what the process runs with, and no secret in it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from proxy.config import LegacyEnvironment, PdtEnvironment, Settings
from proxy.observability.startup import summarise
from tests.conftest import running_proxy

SECRETS = ("s3cret", "pdt-user", "/tenant-path", "demo-dt-secret", "demo-dt-pdt-prd-secret")


def _with(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        ({}, "database", "sqlite"),
        ({"ledger": {"dsn": "postgresql://app:s3cret@db.internal:5432/proxy"}}, "database", "postgres"),
        ({}, "pdt_hosts", {"hml": "simulator", "prd": "simulator"}),
        (
            {"pdt": {"environments": {"prd": "https://pdt-user:s3cret@pdt.example.com/tenant-path"}}},
            "pdt_hosts",
            {"prd": "pdt.example.com"},
        ),
        ({"pdt": {"environments": {"hml": "http://10.1.2.3:8443"}}}, "pdt_hosts", {"hml": "10.1.2.3:8443"}),
        ({"legacy": {"prd": "https://api.legacy.example"}}, "legacy_hosts", None),
        ({"server": {"workers": 4}}, "workers", 4),
    ],
)
def test_summary_fields(settings: Settings, change: dict[str, Any], key: str, expected: Any) -> None:
    if "ledger" in change:
        settings = _with(settings, ledger=settings.ledger.model_copy(update=change["ledger"]))
    if "pdt" in change:
        environments = {
            name: PdtEnvironment(base_url=url) for name, url in change["pdt"]["environments"].items()
        }
        settings = _with(settings, pdt=settings.pdt.model_copy(update={"environments": environments}))
    if "legacy" in change:
        backends = {name: LegacyEnvironment(base_url=url) for name, url in change["legacy"].items()}
        settings = _with(settings, legacy=settings.legacy.model_copy(update={"environments": backends}))
        expected = {"environments.prd": "api.legacy.example"}
    if "server" in change:
        settings = _with(settings, server=settings.server.model_copy(update=change["server"]))
    summary = summarise(
        settings,
        products=["ffr", "datatrust-v1"],
        tenant_stages={"a": "pdt", "b": "shadow", "c": "pdt"},
        tracing_on=False,
    )
    assert summary[key] == expected
    assert summary["products"] == ["datatrust-v1", "ffr"]
    assert summary["tenants"] == 3
    assert summary["tenants_by_stage"] == {"pdt": 2, "shadow": 1}
    assert summary["redis"] is False
    assert summary["tracing"] is False
    assert not any(secret in str(summary) for secret in SECRETS)


async def test_the_app_logs_one_configuration_line_at_startup(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_proxy(settings):
        pass
    lines = [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "configuration"
    ]
    assert len(lines) == 1
    (line,) = lines
    assert line["products"] == ["datatrust-v1", "ffr", "mobile-trust"]
    assert line["tenants"] == 3
    assert line["tenants_by_stage"] == {"pdt": 3}
    assert line["database"] == "sqlite"
    assert line["pdt_hosts"] == {"hml": "simulator", "prd": "simulator"}
    assert line["workers"] == 1
    assert not any(secret in str(line) for secret in SECRETS)
