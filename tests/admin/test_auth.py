"""Admin tokens with roles: who may read, who may change stages, and what refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from proxy.admin.auth import DEMO_ADMIN_TOKEN, AdminAuth, AdminIdentity, Role, token_sha256
from proxy.config import PdtEnvironment, Settings
from proxy.errors import ConfigError
from tests.conftest import make_settings, running_proxy

TOKENS = {"vera": ("viewer", "vera-token"), "otto": ("operator", "otto-token"), "ada": ("admin", "ada-token")}


def tokens_file(tmp_path: Path) -> Path:
    path = tmp_path / "admin-tokens.yaml"
    path.write_text(
        "".join(
            f"- {{actor: {actor}, role: {role}, token_sha256: '{token_sha256(token)}'}}\n"
            for actor, (role, token) in TOKENS.items()
        ),
        encoding="utf-8",
    )
    return path


def with_security(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={"security": settings.security.model_copy(update=update)})


def real_pdt(settings: Settings) -> Settings:
    environments = {"prd": PdtEnvironment(base_url="https://pdt.example"), "hml": PdtEnvironment()}
    return settings.model_copy(update={"pdt": settings.pdt.model_copy(update={"environments": environments})})


READ = ("GET", "/admin/tenants", None)
STAGE = ("PUT", "/admin/tenants/demo-dt/stage", {"stage": "shadow"})
LEDGER = ("GET", "/admin/ledger?month=2026-12", None)


@pytest.mark.parametrize(
    ("token", "call", "status"),
    [
        pytest.param("vera-token", READ, 200, id="viewer reads tenants"),
        pytest.param("vera-token", LEDGER, 200, id="viewer reads the ledger"),
        pytest.param("vera-token", STAGE, 403, id="viewer may not change a stage"),
        pytest.param("otto-token", STAGE, 200, id="operator changes a stage"),
        pytest.param("otto-token", READ, 200, id="operator reads"),
        pytest.param("ada-token", STAGE, 200, id="admin changes a stage"),
        pytest.param("nobody-token", READ, 401, id="unknown token"),
        pytest.param(DEMO_ADMIN_TOKEN, READ, 401, id="the demo token is off once tokens are configured"),
    ],
)
async def test_roles(tmp_path: Path, token: str, call: tuple[str, str, object], status: int) -> None:
    settings = with_security(make_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path))
    method, path, body = call
    async with running_proxy(settings) as client:
        answer = await client.request(method, path, json=body, headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json() == {"message": "the viewer role may not do this; it needs operator"}


async def test_the_single_admin_token_stays_an_admin_beside_the_file(tmp_path: Path) -> None:
    settings = with_security(
        make_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path), admin_token="single-admin-token"
    )
    async with running_proxy(settings) as client:
        answer = await client.request(
            *STAGE[:2], json=STAGE[2], headers={"authorization": "Bearer single-admin-token"}
        )
        audit = await client.get(
            "/admin/tenants/demo-dt/stage/audit", headers={"authorization": "Bearer vera-token"}
        )
    assert answer.status_code == 200
    assert audit.json()["changes"][0]["actor"] == "admin"


@pytest.mark.parametrize(
    ("configure", "identity"),
    [
        pytest.param(
            lambda s, p: s, AdminIdentity("admin", "admin"), id="simulator, nothing set: demo admin"
        ),
        pytest.param(lambda s, p: real_pdt(s), None, id="real PDT, nothing set: no token at all"),
        pytest.param(
            lambda s, p: with_security(real_pdt(s), admin_tokens_file=tokens_file(p)),
            None,
            id="file, no demo",
        ),
    ],
)
def test_the_demo_token_is_in_force_only_on_the_embedded_defaults(
    tmp_path: Path, configure: Callable[[Settings, Path], Settings], identity: AdminIdentity | None
) -> None:
    settings = configure(make_settings(tmp_path), tmp_path)
    assert AdminAuth.from_settings(settings).identify(f"Bearer {DEMO_ADMIN_TOKEN}") == identity


async def test_with_no_token_at_all_the_admin_api_is_disabled(tmp_path: Path) -> None:
    auth = AdminAuth.from_settings(real_pdt(make_settings(tmp_path)))
    assert not auth.enabled


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            "- {actor: a, role: root, token_sha256: '" + "0" * 64 + "'}\n", "role", id="unknown role"
        ),
        pytest.param("- {actor: a, role: viewer, token_sha256: abc}\n", "token_sha256", id="not a sha256"),
        pytest.param(
            "- {actor: '<b>', role: viewer, token_sha256: '" + "0" * 64 + "'}\n", "actor", id="bad actor"
        ),
        pytest.param("- {actor: a, role: viewer, token: plain}\n", "token", id="a plain token is refused"),
        pytest.param(
            "- {actor: a, role: viewer, token_sha256: '" + "0" * 64 + "'}\n"
            "- {actor: b, role: admin, token_sha256: '" + "0" * 64 + "'}\n",
            "share one token",
            id="one token for two actors",
        ),
        pytest.param("actor: a\n", "list", id="not a list"),
        pytest.param(": : :\n", "cannot read", id="not YAML"),
    ],
)
def test_a_broken_tokens_file_stops_startup_naming_it(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "admin-tokens.yaml"
    path.write_text(content, encoding="utf-8")
    settings = with_security(make_settings(tmp_path), admin_tokens_file=path)
    with pytest.raises(ConfigError, match=message) as raised:
        AdminAuth.from_settings(settings)
    assert "admin-tokens.yaml" in str(raised.value)


ROLE_TABLE: list[tuple[Role, Role, bool]] = [
    ("viewer", "viewer", True),
    ("viewer", "operator", False),
    ("operator", "viewer", True),
    ("operator", "admin", False),
    ("admin", "operator", True),
]


@pytest.mark.parametrize(("held", "needed", "allowed"), ROLE_TABLE)
def test_each_role_includes_the_ones_before_it(held: Role, needed: Role, allowed: bool) -> None:
    assert AdminIdentity("x", held).may(needed) is allowed


async def test_every_admin_action_is_logged_with_its_actor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = with_security(make_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path))
    async with running_proxy(settings) as client:
        await client.put(
            "/admin/tenants/demo-dt/stage",
            json={"stage": "shadow"},
            headers={"authorization": "Bearer otto-token"},
        )
    lines = [record.getMessage() for record in caplog.records if "admin request" in record.getMessage()]
    assert any(
        "otto" in line and "operator" in line and "/admin/tenants/demo-dt/stage" in line for line in lines
    )
    assert not any("otto-token" in record.getMessage() for record in caplog.records)
