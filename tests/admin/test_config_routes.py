"""POST /admin/reload and GET /admin/config: roles, the answer's shape, the audit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.admin.test_auth import tokens_file, with_security
from tests.live.support import ADMIN, app_client, editable_settings


@pytest.mark.parametrize(
    ("token", "method", "path", "status"),
    [
        pytest.param("vera-token", "POST", "/admin/reload", 403, id="viewer may not reload"),
        pytest.param("otto-token", "POST", "/admin/reload", 403, id="operator may not reload"),
        pytest.param("ada-token", "POST", "/admin/reload", 200, id="admin reloads"),
        pytest.param("nobody-token", "POST", "/admin/reload", 401, id="unknown token"),
        pytest.param("vera-token", "GET", "/admin/config", 200, id="viewer reads the config"),
        pytest.param("nobody-token", "GET", "/admin/config", 401, id="unknown token reads nothing"),
    ],
)
async def test_roles(tmp_path: Path, token: str, method: str, path: str, status: int) -> None:
    settings = with_security(editable_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path))
    async with app_client(settings) as (client, _):
        answer = await client.request(method, path, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == status


async def test_a_reload_is_audited_with_the_tokens_actor(tmp_path: Path) -> None:
    settings = with_security(editable_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path))
    async with app_client(settings) as (client, _):
        reloaded = await client.post(
            "/admin/reload", headers={"authorization": "Bearer ada-token", "x-admin-actor": "mallory"}
        )
        described = (await client.get("/admin/config", headers={"authorization": "Bearer vera-token"})).json()
    assert reloaded.json()["actor"] == "ada"
    assert [(entry["actor"], entry["outcome"], entry["trigger"]) for entry in described["reloads"]] == [
        ("ada", "ok", "api")
    ]
    assert described["generation"] == reloaded.json()["generation"] == 1


async def test_the_config_shows_version_hashes_and_loaded_at(tmp_path: Path) -> None:
    async with app_client(editable_settings(tmp_path)) as (client, runtime):
        answer = await client.get("/admin/config", headers=ADMIN)
    body = answer.json()
    assert body["version"] == runtime.live.current.fingerprint.version
    assert set(body["hashes"]) == {"mappings", "tenants", "pricing", "compare"}
    assert "mappings/compare.yaml" in body["files"]
    assert body["loaded_at"]
    assert body["last_reload"] is None
    assert body["reloads"] == []
