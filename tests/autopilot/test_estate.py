"""The estate: tenants per stage, next gate, blocked, and which legacy can be switched off;
the tenant file's autopilot block; ``pdt-proxy migration status``."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from proxy.autopilot.estate import PlanState, build_estate
from proxy.autopilot.records import LegacyVolume
from proxy.cli import main
from proxy.composition import build_runtime
from proxy.config import AutopilotSettings
from proxy.errors import ConfigError
from proxy.state.records import StageOverride
from proxy.tenants import demo_tenants_file
from tests.admin.test_tenant_routes import proxy_app
from tests.autopilot.support import ADMIN, START
from tests.conftest import make_settings

NOW = START


def override(tenant: str, days_ago: int, stage: str = "pdt") -> StageOverride:
    return StageOverride(tenant, None, stage, NOW - timedelta(days=days_ago), "autopilot")


def test_who_can_switch_legacy_off() -> None:
    view = build_estate(
        now=NOW,
        period_days=30,
        stages={
            "long-in-pdt": {"ffr": "pdt"},
            "new-in-pdt": {"ffr": "pdt"},
            "pdt-but-legacy-answers": {"ffr": "pdt"},
            "file-pdt": {"ffr": "pdt"},
            "half-way": {"ffr": "pdt", "datatrust-v1": "canary:25"},
            "stuck": {"ffr": "shadow"},
        },
        overrides=[
            override("long-in-pdt", 31),
            override("new-in-pdt", 10),
            override("pdt-but-legacy-answers", 40),
            override("half-way", 2, "canary:25"),
        ],
        plans={"stuck": PlanState("halted", "match_rate: 0.4 (needs >= 0.9)", "halted after a rollback")},
        volume=[
            LegacyVolume("pdt-but-legacy-answers", 12, NOW - timedelta(days=1)),
            LegacyVolume("stuck", 900, NOW),
        ],
    )
    assert view.switch_off == ["file-pdt", "long-in-pdt"]
    assert view.per_stage == {"canary:25": 1, "pdt": 5, "shadow": 1}
    assert [item["tenant"] for item in view.legacy_traffic] == ["stuck", "pdt-but-legacy-answers"]
    lines = {line.tenant: line for line in view.tenants}
    assert lines["stuck"].blocked == "halted after a rollback"
    assert lines["stuck"].next_gate == "match_rate: 0.4 (needs >= 0.9)"
    assert lines["half-way"].in_pdt_since is None
    assert view.to_json()["legacy_can_be_switched_off"] == ["file-pdt", "long-in-pdt"]


def tenant_file(tmp_path: Path, block: object) -> Path:
    raw = yaml.safe_load(demo_tenants_file().read_text(encoding="utf-8"))
    raw["tenants"][0]["autopilot"] = block
    raw["tenants"][0]["stage"] = "shadow"
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"steps": ["canary:5"]}, "tenant demo-dt: autopilot: steps: the last step is pdt"),
        ({"product": "ffr"}, "tenant demo-dt: autopilot: product 'ffr' is not the tenant's"),
        ({"profile": "vip"}, "tenant demo-dt: autopilot: profile: unknown 'vip'"),
    ],
)
def test_a_bad_tenant_file_plan_stops_startup_naming_the_tenant(
    tmp_path: Path, block: object, message: str
) -> None:
    settings = make_settings(tmp_path, tenants_file=tenant_file(tmp_path, block))
    with pytest.raises(ConfigError) as raised:
        build_runtime(settings)
    assert message in str(raised.value)


async def test_a_tenant_file_plan_is_seeded_and_the_status_command_prints_the_estate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tenant_file(tmp_path, {"profile": "tech-touch"})
    settings = make_settings(tmp_path, tenants_file=path, autopilot=AutopilotSettings(enabled=False))
    async with proxy_app(settings) as (client, _):
        view = await client.get("/admin/tenants/demo-dt/autopilot", headers=ADMIN)
        assert view.status_code == 200
        assert (view.json()["set_by"], view.json()["plan"]["steps"][0]["percent"]) == ("tenant-file", 1)
        estate = await client.get("/admin/autopilot/estate", headers=ADMIN)
        assert estate.json()["per_stage"] == {"pdt": 2, "shadow": 1}
    monkeypatch.setenv("PROXY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PROXY_TENANTS_FILE", str(path))
    code = await asyncio.to_thread(main, ["migration", "status"])
    out = capsys.readouterr().out
    assert code == 0
    assert "tenants per stage: pdt 2, shadow 1" in out
    assert "demo-dt" in out
    assert "samples: 0 (needs >= 1000)" in out
    assert "legacy can be switched off (pdt for 30 days, no legacy answer): demo-ffr, demo-mt" in out
