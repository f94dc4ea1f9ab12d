"""The autopilot admin API: roles, bad input as 400/404, the plan's view, stop and pause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.admin.auth import token_sha256
from proxy.config import AutopilotSettings
from tests.admin.test_tenant_routes import proxy_app
from tests.conftest import make_settings

ADMIN = {"authorization": "Bearer demo-admin-token"}
BASE = "/admin/tenants/demo-dt/autopilot"


def settings_with_roles(tmp_path: Path) -> Any:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        yaml.safe_dump(
            [
                {"actor": "ana", "role": "viewer", "token_sha256": token_sha256("viewer-token")},
                {"actor": "ops", "role": "operator", "token_sha256": token_sha256("operator-token")},
            ]
        ),
        encoding="utf-8",
    )
    settings = make_settings(tmp_path, autopilot=AutopilotSettings(enabled=False))
    return settings.model_copy(
        update={"security": settings.security.model_copy(update={"admin_tokens_file": tokens})}
    )


ROLES = [
    # (method, path, token, status)
    ("GET", BASE, "viewer-token", 404),  # allowed, no plan yet
    ("PUT", BASE, "viewer-token", 403),
    ("DELETE", BASE, "viewer-token", 403),
    ("POST", f"{BASE}/pause", "viewer-token", 403),
    ("POST", f"{BASE}/evaluate", "viewer-token", 403),
    ("GET", "/admin/autopilot/estate", "viewer-token", 200),
    ("GET", BASE, "wrong", 401),
    ("PUT", BASE, "operator-token", 201),
]


@pytest.mark.parametrize(("method", "path", "token", "status"), ROLES)
async def test_roles(tmp_path: Path, method: str, path: str, token: str, status: int) -> None:
    async with proxy_app(settings_with_roles(tmp_path)) as (client, _):
        answer = await client.request(
            method, path, json={} if method == "PUT" else None, headers={"authorization": f"Bearer {token}"}
        )
    assert answer.status_code == status, answer.text


BAD = [
    ("PUT", BASE, b"{not json", 400, "not JSON"),
    ("PUT", BASE, b'{"steps": ["canary:5"]}', 400, "the last step is pdt"),
    ("PUT", BASE, b'{"product": "ffr"}', 400, "product"),
    ("PUT", BASE, b'{"gates": {"min_samples": "many"}}', 400, "gates.min_samples"),
    ("PUT", "/admin/tenants/nobody/autopilot", b"{}", 404, "unknown tenant"),
    ("GET", f"{BASE}?product=ffr", b"", 400, "product"),
    ("DELETE", BASE, b"", 404, "no autopilot plan"),
    ("POST", f"{BASE}/resume", b"", 404, "no autopilot plan"),
    ("POST", f"{BASE}/evaluate", b"", 404, "no autopilot plan"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "message"), BAD)
async def test_bad_requests_are_named_never_a_500(
    tmp_path: Path, method: str, path: str, body: bytes, status: int, message: str
) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, _):
        answer = await client.request(method, path, content=body, headers=ADMIN)
    assert answer.status_code == status
    assert message in answer.json()["message"]


async def test_a_plan_is_set_shown_paused_resumed_and_stopped(tmp_path: Path) -> None:
    async with proxy_app(make_settings(tmp_path, autopilot=AutopilotSettings(enabled=False))) as (
        client,
        runtime,
    ):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        created = await client.put(BASE, json={"gates": {"min_samples": 10}, "hold_s": 60}, headers=ADMIN)
        assert created.status_code == 201
        view = created.json()
        assert (view["status"], view["current"], view["set_by"]) == ("active", "shadow", "admin")
        assert view["plan"]["gates"]["min_samples"] == 10
        assert view["plan"]["gates"]["min_hours"] == 72  # compare.yaml's default
        gates = {gate["name"]: gate for gate in view["gates"]}
        assert gates["samples"] == {**gates["samples"], "value": 0.0, "threshold": 10, "passed": False}
        assert {"hours", "distinct_days", "match_rate", "added_p99_ms"} <= set(gates)
        assert any(item.startswith("samples: 0") for item in view["missing"])
        assert view["next"]["decision"] == "hold"
        # GET shows the gates without deciding: nothing audited yet.
        assert view["decisions"] == []
        evaluated = await client.post(f"{BASE}/evaluate", headers=ADMIN)
        assert evaluated.json()["decision"] == "hold"
        assert {"decision", "from", "to", "figures"} <= set(evaluated.json())
        paused = await client.post(f"{BASE}/pause", headers=ADMIN)
        assert paused.json()["status"] == "paused"
        assert len(paused.json()["decisions"]) == 1
        assert paused.json()["decisions"][0]["actor"] == "autopilot"
        assert runtime.autopilot is not None
        assert await runtime.autopilot.tick() == []
        resumed = await client.post(f"{BASE}/resume", headers=ADMIN)
        assert resumed.json()["status"] == "active"
        replaced = await client.put(BASE, json={"profile": "tech-touch"}, headers=ADMIN)
        assert replaced.status_code == 200
        assert replaced.json()["plan"]["steps"][0] == {"stage": "canary", "percent": 1}
        stopped = await client.delete(BASE, headers=ADMIN)
        assert stopped.json()["stopped"] is True
        assert (await client.get(BASE, headers=ADMIN)).status_code == 404
        # Stopping the plan leaves the stage where it was.
        assert runtime.stages.current("demo-dt", None).label == "shadow"
