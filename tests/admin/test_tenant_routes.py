"""The stage admin API end to end: switch, audit, persist, share, and the backtest it feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.admin.auth import token_sha256
from proxy.composition import create_app
from proxy.config import Settings, SimulatorSettings
from proxy.runtime import Runtime
from proxy.tenants import hash_password
from tests.conftest import make_settings
from tests.mapping.support import make_cpf

ADMIN = {"authorization": "Bearer demo-admin-token"}


@asynccontextmanager
async def proxy_app(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield client, app.runtime


async def dt_headers(client: httpx.AsyncClient) -> dict[str, str]:
    login = await client.post(
        "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
    )
    return {"authorization": f"Bearer {login.json()['token']}"}


def person(n: int) -> dict[str, Any]:
    return {
        "Document": make_cpf(f"{100000000 + n:09d}"),
        "Email": f"p{n}@example.com",
        "Phone": {"AreaCode": "11", "Number": "988887777"},
        "ZipCode": "01310-100",
    }


def side_counts(runtime: Runtime) -> dict[str, float]:
    body, _ = runtime.metrics.render()
    counts: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith("pdt_proxy_requests_total{") and 'tenant="demo-dt"' in line:
            side = line.split('side="', 1)[1].split('"', 1)[0]
            counts[side] = counts.get(side, 0) + float(line.rsplit(" ", 1)[1])
    return counts


async def test_tenants_are_listed_with_their_stages(tmp_path: Path) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, _):
        answer = await client.get("/admin/tenants", headers=ADMIN)
    assert answer.status_code == 200
    tenants = {entry["tenant"]: entry for entry in answer.json()["tenants"]}
    assert set(tenants) == {"demo-dt", "demo-ffr", "demo-mt"}
    assert tenants["demo-dt"]["products"] == {"datatrust-v1": "pdt"}
    assert tenants["demo-dt"]["legacy_credentials"] == ["hml", "prd"]
    assert "secret" not in answer.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/tenants"),
        ("PUT", "/admin/tenants/demo-dt/stage"),
        ("GET", "/admin/tenants/demo-dt/stage/audit"),
        ("GET", "/admin/tenants/demo-dt/backtest"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "demo-admin-token"], ids=["none", "wrong", "no-scheme"]
)
async def test_every_admin_route_needs_the_token(
    tmp_path: Path, method: str, path: str, authorization: str | None
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        answer = await client.request(method, path, json={"stage": "legacy"}, headers=headers)
        assert runtime.stages.overrides == {}
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "label"),
    [
        pytest.param({"stage": "shadow"}, 200, "shadow", id="shadow"),
        pytest.param({"stage": "canary", "percent": 10}, 200, "canary:10", id="canary"),
        pytest.param({"stage": "legacy", "product": "datatrust-v1"}, 200, "legacy", id="per-product"),
        pytest.param({"stage": "pdt-fallback"}, 200, "pdt-fallback", id="fallback"),
        pytest.param({"stage": "canary"}, 400, None, id="canary-without-percent"),
        pytest.param({"stage": "canary", "percent": 101}, 400, None, id="percent-over-100"),
        pytest.param({"stage": "blue-green"}, 400, None, id="unknown-stage"),
        pytest.param({"stage": "legacy", "product": "ffr"}, 409, None, id="product-not-bought"),
        pytest.param({"stage": "legacy", "product": 3}, 400, None, id="product-not-a-name"),
        pytest.param(["shadow"], 400, None, id="not-an-object"),
    ],
)
async def test_stage_changes(tmp_path: Path, body: Any, status: int, label: str | None) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        answer = await client.put("/admin/tenants/demo-dt/stage", json=body, headers=ADMIN)
        audit = (await client.get("/admin/tenants/demo-dt/stage/audit", headers=ADMIN)).json()["changes"]
        described = {entry["tenant"]: entry for entry in runtime.stages.describe()}
    assert answer.status_code == status, answer.text
    if label is None:
        assert "message" in answer.json()
        assert audit == []
        assert described["demo-dt"]["products"]["datatrust-v1"] == "pdt"
        return
    change = answer.json()
    assert (change["from"], change["to"], change["actor"]) == ("pdt", label, "admin")
    assert audit == [change]
    assert described["demo-dt"]["products"]["datatrust-v1"] == label


async def test_unknown_tenants_and_malformed_bodies(tmp_path: Path) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, _):
        unknown = await client.put("/admin/tenants/nobody/stage", json={"stage": "pdt"}, headers=ADMIN)
        not_json = await client.put("/admin/tenants/demo-dt/stage", content=b"{stage", headers=ADMIN)
        audit = await client.get("/admin/tenants/nobody/stage/audit", headers=ADMIN)
    assert (unknown.status_code, not_json.status_code, audit.status_code) == (404, 400, 404)


async def test_a_tenant_without_legacy_credentials_cannot_leave_pdt(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(
        "tenants:\n  - id: acme\n    name: ACME\n    demo: true\n    products: [datatrust-v1]\n"
        f"    users: [{{username: acme, password_hash: '{hash_password('acme-secret')}'}}]\n"
        "    pdt:\n      prd: {username: acme-pdt, password: {value: x}}\n",
        encoding="utf-8",
    )
    async with proxy_app(make_settings(tmp_path, tenants_file=tenants)) as (client, _):
        answer = await client.put("/admin/tenants/acme/stage", json={"stage": "shadow"}, headers=ADMIN)
    assert answer.status_code == 409
    assert "legacy credentials" in answer.json()["message"]


async def test_the_audit_is_newest_first_and_names_the_token_s_actor_never_a_header(tmp_path: Path) -> None:
    tokens = tmp_path / "admin-tokens.yaml"
    tokens.write_text(
        f"- {{actor: ana.souza, role: operator, token_sha256: '{token_sha256('ana-token')}'}}\n"
        f"- {{actor: bruno, role: admin, token_sha256: '{token_sha256('bruno-token')}'}}\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path)
    settings = settings.model_copy(
        update={"security": settings.security.model_copy(update={"admin_tokens_file": tokens})}
    )
    async with proxy_app(settings) as (client, _):
        for stage, token in (("shadow", "ana-token"), ("canary", "bruno-token")):
            body = {"stage": stage, "percent": 5} if stage == "canary" else {"stage": stage}
            # A header claiming another actor changes nothing: the token decides.
            headers = {"authorization": f"Bearer {token}", "x-admin-actor": "someone-else"}
            assert (
                await client.put("/admin/tenants/demo-dt/stage", json=body, headers=headers)
            ).status_code == 200
        changes = (
            await client.get(
                "/admin/tenants/demo-dt/stage/audit", headers={"authorization": "Bearer ana-token"}
            )
        ).json()["changes"]
    assert [(c["from"], c["to"], c["actor"]) for c in changes] == [
        ("shadow", "canary:5", "bruno"),
        ("pdt", "shadow", "ana.souza"),
    ]


async def test_a_stage_change_reroutes_the_next_request_and_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with proxy_app(settings) as (client, runtime):
        headers = await dt_headers(client)
        await client.post("/products/v1/datatrust", json=person(1), headers=headers)
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "legacy"}, headers=ADMIN)
        answer = await client.post("/products/v1/datatrust", json=person(1), headers=headers)
        assert answer.status_code == 200
        assert side_counts(runtime) == {"pdt": 1.0, "legacy": 1.0}
    async with proxy_app(settings) as (client, runtime):
        described = {entry["tenant"]: entry for entry in runtime.stages.describe()}
        assert described["demo-dt"]["stage"] == "legacy"


async def test_workers_share_stage_changes_through_the_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with proxy_app(settings) as (first, _), proxy_app(settings) as (_, second_runtime):
        await first.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        await second_runtime.stage_control.refresh()
        tenant = second_runtime.tenants.tenants["demo-dt"]
        assert second_runtime.stages.stage_for(tenant, "datatrust-v1").label == "shadow"


async def test_shadow_answers_from_legacy_and_feeds_the_backtest(tmp_path: Path) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        headers = await dt_headers(client)
        for n in range(12):
            assert (
                await client.post("/products/v1/datatrust", json=person(n), headers=headers)
            ).status_code == 200
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        report = (await client.get("/admin/tenants/demo-dt/backtest", headers=ADMIN)).json()
        page = await client.get("/admin/tenants/demo-dt/backtest?format=html", headers=ADMIN)
        internal = await client.get(
            "/admin/tenants/demo-dt/backtest?format=html&copy=internal&lang=en", headers=ADMIN
        )
        assert side_counts(runtime) == {"legacy": 12.0}
    assert report["samples"] == 12
    assert report["by_operation"] == {"datatrust.transaction.create": 12}
    assert report["score_pairs"]
    assert report["ready"] is False  # 12 samples < the declared minimum of 100
    assert page.headers["content-type"].startswith("text/html")
    # The bank's copy by default (Portuguese, the tenant's name); the internal one on request.
    assert "Ainda não está pronto para a virada" in page.text
    assert "Demo Data Trust v1 client" in page.text
    assert "dt.resp." not in page.text
    assert "Not ready for cut-over yet" in internal.text
    assert "dt.resp." in internal.text


async def test_a_failing_pdt_never_touches_the_shadowed_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, simulator=SimulatorSettings(fault_rate=1.0))
    async with proxy_app(settings) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        headers = await dt_headers(client)
        answers = [
            await client.post("/products/v1/datatrust", json=person(n), headers=headers) for n in range(5)
        ]
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        report = (await client.get("/admin/tenants/demo-dt/backtest", headers=ADMIN)).json()
    assert [answer.status_code for answer in answers] == [200] * 5
    assert report["samples"] == 5
    assert report["pdt_error_rate"] == 1.0


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("from=yesterday", 400),
        ("to=2026-13-01", 400),
        ("from=2026-11-20&to=2026-11-19", 400),
        ("to=0001-01-02", 400),
        ("from=0001-01-01T00:00:00%2B14:00", 400),
        ("from=2026-11-01&to=2026-11-30T23:59:59Z", 200),
    ],
)
async def test_backtest_windows(tmp_path: Path, query: str, status: int) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, _):
        answer = await client.get(f"/admin/tenants/demo-dt/backtest?{query}", headers=ADMIN)
        unknown = await client.get("/admin/tenants/nobody/backtest", headers=ADMIN)
    assert answer.status_code == status
    assert unknown.status_code == 404


async def test_shadow_samples_never_delay_the_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, simulator=SimulatorSettings(latency_ms=300.0))
    async with proxy_app(settings) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        headers = await dt_headers(client)
        assert runtime.shadow is not None
        answer = await client.post("/products/v1/datatrust", json=person(1), headers=headers)
        assert answer.status_code == 200
        # Answered before its PDT side (>= 300 ms) could have stored a comparison.
        early = (await client.get("/admin/tenants/demo-dt/backtest", headers=ADMIN)).json()
        await asyncio.wait_for(runtime.shadow.drain(10.0), 15.0)
        late = (await client.get("/admin/tenants/demo-dt/backtest", headers=ADMIN)).json()
    assert (early["samples"], late["samples"]) == (0, 1)
