"""GET /admin/ledger: bearer-token guard, query validation, the bill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import PdtEnvironment, Settings
from tests.conftest import make_settings

ADMIN = {"Authorization": "Bearer demo-admin-token"}


@asynccontextmanager
async def _app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # A PDT that is never called: these tests only reach the admin API.
    never = httpx.MockTransport(lambda request: httpx.Response(599))
    app = create_app(settings, transport=never)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as client,
    ):
        yield client


def _real_pdt(tmp_path: Path, admin_token: str | None) -> Settings:
    base = make_settings(tmp_path)
    real = PdtEnvironment(base_url="https://pdt.example.test")
    return base.model_copy(
        update={
            "pdt": base.pdt.model_copy(update={"environments": {"prd": real, "hml": real}}),
            "security": base.security.model_copy(update={"admin_token": admin_token}),
        }
    )


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Bearer demo-admin-token-and-more"}, 401),
        ({"Authorization": "Basic demo-admin-token"}, 401),
        ({"Authorization": "demo-admin-token"}, 401),
        ({"Authorization": "Bearer "}, 401),
        (ADMIN, 200),
        ({"Authorization": "bearer demo-admin-token"}, 200),
    ],
)
async def test_the_demo_admin_token_opens_it_on_the_embedded_defaults(
    settings: Settings, headers: dict[str, str], status: int
) -> None:
    async with _app(settings) as client:
        answer = await client.get("/admin/ledger", params={"month": "2026-02"}, headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert answer.json() == {"message": "admin token missing or invalid"}
        assert answer.headers["www-authenticate"] == "Bearer"


async def test_with_a_real_pdt_host_and_no_admin_token_it_never_opens(tmp_path: Path) -> None:
    async with _app(_real_pdt(tmp_path, None)) as client:
        for headers in ({}, ADMIN):
            answer = await client.get("/admin/ledger", params={"month": "2026-02"}, headers=headers)
            assert answer.status_code == 503
            assert "admin API is disabled" in answer.json()["message"]


@pytest.mark.parametrize(("token", "status"), [("s3cret-admin-token", 200), ("demo-admin-token", 401)])
async def test_with_a_real_pdt_host_only_the_configured_token_opens_it(
    tmp_path: Path, token: str, status: int
) -> None:
    async with _app(_real_pdt(tmp_path, "s3cret-admin-token")) as client:
        answer = await client.get(
            "/admin/ledger", params={"month": "2026-02"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == status


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "month: month must be YYYY-MM"),
        ({"month": "2026-13"}, "month: month must be YYYY-MM"),
        ({"month": "2026-2"}, "month: month must be YYYY-MM"),
        ({"month": "2026-02-01"}, "month: month must be YYYY-MM"),
        ({"month": "' OR 1=1 --"}, "month: month must be YYYY-MM"),
        ({"month": "2026-02", "tenant": "../other"}, "tenant: not a tenant id"),
        ({"month": "2026-02", "tenant": ""}, "tenant: not a tenant id"),
        ({"month": "2026-02", "format": "xml"}, "format: json or csv"),
    ],
)
async def test_a_bad_query_is_a_400_json_error(
    settings: Settings, params: dict[str, str], message: str
) -> None:
    async with _app(settings) as client:
        answer = await client.get("/admin/ledger", params=params, headers=ADMIN)
    assert answer.status_code == 400
    assert list(answer.json()) == ["message"]
    assert answer.json()["message"].startswith(message)


@pytest.mark.parametrize(
    ("params", "media", "start"),
    [
        ({"month": "2026-02"}, "application/json", b'{\n  "month": "2026-02",\n  "currency": "BRL"'),
        ({"month": "2026-02", "format": "csv"}, "text/csv; charset=utf-8", b"month,tenant,product,item,"),
        ({"month": "2026-02", "tenant": "demo-dt"}, "application/json", b'{\n  "month": "2026-02"'),
    ],
)
async def test_an_empty_month_is_an_empty_bill(
    settings: Settings, params: dict[str, str], media: str, start: bytes
) -> None:
    async with _app(settings) as client:
        answer = await client.get("/admin/ledger", params=params, headers=ADMIN)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == media
    assert answer.content.startswith(start)
    if media == "application/json":
        assert answer.json()["lines"] == []
        assert answer.json()["total"] == "0.00"
        assert answer.json()["evidence"] == "sample"


async def test_a_disabled_ledger_answers_503(tmp_path: Path) -> None:
    base = make_settings(tmp_path)
    settings = base.model_copy(update={"ledger": base.ledger.model_copy(update={"enabled": False})})
    async with _app(settings) as client:
        answer = await client.get("/admin/ledger", params={"month": "2026-02"}, headers=ADMIN)
    assert answer.status_code == 503
    assert "disabled" in answer.json()["message"]


async def test_stats_show_the_batches_this_process_committed(settings: Settings) -> None:
    async with _app(settings) as client:
        assert (await client.get("/admin/ledger/stats")).status_code == 401
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}
        # Three records, one after the other: three batches of one.
        for _ in range(3):
            await client.post(
                "/products/v1/datatrust/unknown-id/token", json={"Channel": "Sms"}, headers=bearer
            )
        answer = await client.get("/admin/ledger/stats", headers=ADMIN)
    assert answer.status_code == 200
    assert answer.json() == {
        "enabled": True,
        "batches": 3,
        "records": 3,
        "largest_batch": 1,
        "failed_batches": 0,
        "batch_sizes": {"1": 3},
    }
