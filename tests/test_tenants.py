from __future__ import annotations

from pathlib import Path

import pytest

from proxy.errors import BadCredentials, ConfigError, Forbidden
from proxy.tenants import demo_tenants_file, hash_password, load_tenants

PRODUCTS = frozenset({"datatrust-v1", "ffr", "mobile-trust"})


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def _tenant(password: str = "{env: ACME_PDT_PASSWORD}", extra: str = "") -> str:
    return (
        "tenants:\n"
        "  - id: acme\n"
        "    name: ACME bank\n"
        "    products: [ffr]\n"
        f"{extra}"
        "    users:\n"
        f"      - {{username: acme-user, password_hash: '{hash_password('acme-pass')}'}}\n"
        "    pdt:\n"
        f"      prd: {{username: acme-pdt, password: {password}}}\n"
    )


async def test_demo_tenants_authenticate_with_their_published_secrets() -> None:
    directory = load_tenants(demo_tenants_file(), known_products=PRODUCTS, simulator_only=True)
    for username, tenant_id in [("demo-dt", "demo-dt"), ("demo-ffr", "demo-ffr"), ("demo-mt", "demo-mt")]:
        tenant = await directory.authenticate(username, f"{username}-secret")
        assert tenant.id == tenant_id
        assert tenant.demo


def test_demo_tenants_are_refused_when_a_real_pdt_is_configured() -> None:
    directory = load_tenants(demo_tenants_file(), known_products=PRODUCTS, simulator_only=False)
    assert directory.tenants == {}
    assert set(directory.refused_demo) == {"demo-dt", "demo-ffr", "demo-mt"}


@pytest.mark.parametrize(
    ("username", "password"),
    [("demo-dt", "wrong"), ("demo-dt", ""), ("nobody", "demo-dt-secret"), ("DEMO-DT", "demo-dt-secret")],
    ids=["wrong-password", "empty-password", "unknown-user", "username-is-case-sensitive"],
)
async def test_bad_credentials(username: str, password: str) -> None:
    directory = load_tenants(demo_tenants_file(), known_products=PRODUCTS, simulator_only=True)
    with pytest.raises(BadCredentials):
        await directory.authenticate(username, password)


async def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_PDT_PASSWORD", "from-env")
    directory = load_tenants(_write(tmp_path, _tenant()), known_products=PRODUCTS, simulator_only=False)
    tenant = await directory.authenticate("acme-user", "acme-pass")
    assert tenant.credential("prd").password == "from-env"
    assert "from-env" not in repr(tenant.credential("prd"))
    with pytest.raises(Forbidden):
        tenant.credential("hml")
    tenant.require_product("ffr")
    with pytest.raises(Forbidden):
        tenant.require_product("datatrust-v1")


def test_secrets_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("from-file\n", encoding="utf-8")
    directory = load_tenants(
        _write(tmp_path, _tenant("{file: secret.txt}")), known_products=PRODUCTS, simulator_only=False
    )
    assert directory.tenants["acme"].credential("prd").password == "from-file"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_tenant("{value: clear-text}"), "only allowed for demo tenants"),
        (_tenant("{env: NOT_SET_ANYWHERE_12345}"), "NOT_SET_ANYWHERE_12345 is not set"),
        (_tenant("{file: missing.txt}"), "cannot read secret file"),
        (_tenant("{env: A, file: b}"), "exactly one of"),
        (_tenant(extra="    strategy: pack\n"), "needs 'pack'"),
        (_tenant().replace("[ffr]", "[ffr, nope]"), "unknown products"),
        (_tenant() + _tenant().replace("tenants:\n", ""), "id used twice"),
        ("tenants: [unclosed\n", "not valid YAML"),
        ("tenants:\n  - id: UPPER\n", "tenants.0"),
    ],
    ids=[
        "clear-text",
        "env-unset",
        "file-missing",
        "two-sources",
        "pack-without-name",
        "unknown-product",
        "duplicate",
        "yaml",
        "schema",
    ],
)
def test_invalid_tenant_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, expected: str
) -> None:
    if expected != "NOT_SET_ANYWHERE_12345 is not set":
        monkeypatch.setenv("ACME_PDT_PASSWORD", "x")
    with pytest.raises(ConfigError, match=expected):
        load_tenants(_write(tmp_path, body), known_products=PRODUCTS, simulator_only=False)


def test_a_username_belongs_to_one_tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_PDT_PASSWORD", "x")
    second = _tenant().replace("tenants:\n", "").replace("id: acme", "id: acme-two")
    with pytest.raises(ConfigError, match="already belongs"):
        load_tenants(_write(tmp_path, _tenant() + second), known_products=PRODUCTS, simulator_only=False)


LEGACY = "    legacy:\n      prd: {username: acme-legacy, password: {env: ACME_LEGACY}}\n"


@pytest.mark.parametrize(
    ("extra", "default", "ffr"),
    [
        pytest.param("", "pdt", "pdt", id="pdt-by-default"),
        pytest.param(f"    stage: shadow\n{LEGACY}", "shadow", "shadow", id="shadow"),
        pytest.param(f"    stage: canary:10\n{LEGACY}", "canary:10", "canary:10", id="canary"),
        pytest.param(
            f"    stage: pdt\n    stages: {{ffr: legacy}}\n{LEGACY}", "pdt", "legacy", id="per-product"
        ),
        pytest.param(f"    stage: pdt-fallback\n{LEGACY}", "pdt-fallback", "pdt-fallback", id="fallback"),
    ],
)
def test_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, default: str, ffr: str) -> None:
    monkeypatch.setenv("ACME_PDT_PASSWORD", "pdt-secret")
    monkeypatch.setenv("ACME_LEGACY", "legacy-secret")
    directory = load_tenants(
        _write(tmp_path, _tenant(extra=extra)), known_products=PRODUCTS, simulator_only=False
    )
    tenant = directory.tenants["acme"]
    assert tenant.stage.label == default
    assert tenant.stage_for("ffr").label == ffr
    if "legacy:" in extra:
        account = tenant.legacy_account("prd")
        assert (account.username, account.password) == ("acme-legacy", "legacy-secret")
        assert "legacy-secret" not in repr(tenant)
        with pytest.raises(Forbidden):
            tenant.legacy_account("hml")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        pytest.param(
            "    stage: shadow\n", "stage shadow needs 'legacy' credentials", id="shadow-without-legacy"
        ),
        pytest.param(
            "    stages: {ffr: legacy}\n",
            "stage pdt needs 'legacy' credentials",
            id="product-legacy-without-legacy",
        ),
        pytest.param(
            f"    stage: canary\n{LEGACY}", "write a canary stage as canary:N", id="canary-without-percent"
        ),
        pytest.param(f"    stage: canary:101\n{LEGACY}", "whole percent from 0 to 100", id="canary-over-100"),
        pytest.param(
            f"    stage: pdt:5\n{LEGACY}", "only the canary stage takes a percent", id="percent-on-pdt"
        ),
        pytest.param(f"    stage: dual\n{LEGACY}", "unknown stage 'dual'", id="unknown-stage"),
        pytest.param(
            f"    stages: {{datatrust-v1: legacy}}\n{LEGACY}",
            "products the tenant does not have",
            id="stage-for-unowned-product",
        ),
        pytest.param(
            "    stage: shadow\n    legacy:\n      prd: {username: a, password: {value: x}}\n",
            "clear-text secrets",
            id="clear-legacy-secret",
        ),
    ],
)
def test_invalid_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str, reason: str) -> None:
    monkeypatch.setenv("ACME_PDT_PASSWORD", "pdt-secret")
    monkeypatch.setenv("ACME_LEGACY", "legacy-secret")
    with pytest.raises(ConfigError, match=reason):
        load_tenants(_write(tmp_path, _tenant(extra=extra)), known_products=PRODUCTS, simulator_only=False)


@pytest.mark.parametrize(
    ("second_pdt", "second_legacy", "refused"),
    [
        pytest.param("acme-pdt", "other-legacy", "pdt.prd account 'acme-pdt'", id="shared PDT account"),
        pytest.param(
            "other-pdt", "acme-legacy", "legacy.prd account 'acme-legacy'", id="shared legacy login"
        ),
        pytest.param("other-pdt", "other-legacy", None, id="own accounts"),
    ],
)
def test_tenants_never_share_an_upstream_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second_pdt: str, second_legacy: str, refused: str | None
) -> None:
    # The upstreams keep transactions per account: sharing one would let each tenant
    # read the other's transactions through the proxy.
    monkeypatch.setenv("ACME_PDT_PASSWORD", "x")
    monkeypatch.setenv("ACME_LEGACY", "y")
    first = _tenant(extra="") + LEGACY
    second = (
        (_tenant() + LEGACY.replace("acme-legacy", second_legacy))
        .replace("tenants:\n", "")
        .replace("id: acme", "id: acme-two")
        .replace("acme-user", "acme-two-user")
        .replace("username: acme-pdt", f"username: {second_pdt}")
    )
    path = _write(tmp_path, first + second)
    if refused is None:
        assert set(load_tenants(path, known_products=PRODUCTS, simulator_only=False).tenants) == {
            "acme",
            "acme-two",
        }
    else:
        with pytest.raises(ConfigError, match=refused):
            load_tenants(path, known_products=PRODUCTS, simulator_only=False)
