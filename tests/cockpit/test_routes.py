"""proxy.cockpit.routes through the ASGI app: sign-in, roles, the two-step stage change, CSP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.cockpit.session import COOKIE, form_token
from proxy.composition import create_app
from proxy.runtime import Runtime
from tests.admin.test_auth import tokens_file, with_security
from tests.conftest import make_settings

UI = "/admin/ui/"
NAMES = ("Demo Data Trust v1 client", "Demo Financial Fraud Radar bank", "Demo Mobile Trust bank")


@asynccontextmanager
async def cockpit(
    tmp_path: Path, *, autopilot: bool = False
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = with_security(make_settings(tmp_path), admin_tokens_file=tokens_file(tmp_path))
    app = create_app(settings)
    if autopilot:
        # What the autopilot branch will serve; the cockpit must show it when it answers 200.
        async def plan(request: Request) -> Response:
            return JSONResponse({"current_step": "canary 5 %", "next_gate": "7 dias a 95 %"})

        app.operations.router.routes.insert(
            0, Route("/admin/tenants/{tenant}/autopilot", plan, methods=["GET"])
        )
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield client, app.runtime


def signed(client: httpx.AsyncClient, token: str) -> httpx.AsyncClient:
    client.cookies.set(COOKIE, token, domain="proxy.test", path="/admin/ui")
    return client


def assert_strict(page: httpx.Response) -> None:
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "inline script"
    assert "<style" not in page.text
    assert " style=" not in page.text


async def test_sign_in_sets_a_strict_cookie_and_shows_the_estate(tmp_path: Path) -> None:
    async with cockpit(tmp_path) as (client, _):
        login_page = await client.get(UI)
        assert login_page.status_code == 200
        assert 'lang="pt-BR"' in login_page.text
        assert "Token de administrador" in login_page.text
        assert_strict(login_page)
        refused = await client.post("/admin/ui/login", data={"token": "wrong"})
        assert refused.status_code == 401
        assert COOKIE not in refused.cookies
        accepted = await client.post("/admin/ui/login", data={"token": "vera-token"})
        assert accepted.status_code == 303
        cookie = accepted.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/admin/ui"):
            assert attribute in cookie
        estate = await client.get(UI)
        assert estate.status_code == 200
        for name in NAMES:
            assert name in estate.text
        assert "vera · leitor" in estate.text
        assert "Piloto automático" not in estate.text  # no autopilot endpoint on this build
        assert_strict(estate)


@pytest.mark.parametrize(
    ("query", "headers", "heading"),
    [
        ("", {"accept-language": "en-US,en;q=0.9"}, "Tenants in migration"),
        ("?lang=en", {}, "Tenants in migration"),
        ("?lang=pt-BR", {"accept-language": "en"}, "Clientes em migração"),
        ("", {}, "Clientes em migração"),
    ],
)
async def test_the_language(tmp_path: Path, query: str, headers: dict[str, str], heading: str) -> None:
    async with cockpit(tmp_path) as (client, _):
        page = await signed(client, "vera-token").get(UI + query, headers=headers)
        assert f"<h1>{heading}</h1>" in page.text


async def test_the_autopilot_column_appears_when_its_endpoint_answers(tmp_path: Path) -> None:
    async with cockpit(tmp_path, autopilot=True) as (client, _):
        signed(client, "vera-token")
        estate = await client.get(UI)
        assert "Piloto automático" in estate.text
        assert "canary 5 %" in estate.text
        assert "7 dias a 95 %" in estate.text
        tenant = await client.get("/admin/ui/tenants/demo-dt")
        assert 'id="autopilot"' in tenant.text


async def test_a_viewer_gets_no_controls_and_is_refused(tmp_path: Path) -> None:
    async with cockpit(tmp_path) as (client, runtime):
        signed(client, "vera-token")
        page = await client.get("/admin/ui/tenants/demo-dt")
        assert page.status_code == 200
        assert 'id="viewer-note"' in page.text
        assert 'name="stage"' not in page.text
        refused = await client.post(
            "/admin/ui/tenants/demo-dt/stage",
            data={"form_token": form_token("vera-token"), "product": "datatrust-v1", "stage": "shadow",
                  "confirm": "yes"},
        )  # fmt: skip
        assert refused.status_code == 403
        assert runtime.stages.describe()[0]["products"]["datatrust-v1"] == "pdt"


async def test_an_operator_confirms_and_the_audit_names_them(tmp_path: Path) -> None:
    async with cockpit(tmp_path) as (client, runtime):
        signed(client, "otto-token")
        page = await client.get("/admin/ui/tenants/demo-mt")
        assert 'id="review-change"' in page.text
        form = {"form_token": form_token("otto-token"), "product": "mobile-trust", "stage": "canary",
                "percent": "25"}  # fmt: skip
        review = await client.post("/admin/ui/tenants/demo-mt/stage", data=form)
        assert review.status_code == 200
        assert "Demo Mobile Trust bank, produto mobile-trust: de PDT para canário 25 %." in review.text
        assert "25 % dos clientes finais" in review.text
        assert_strict(review)
        # Nothing changes before the confirmation.
        assert (await runtime.stage_control.store.stage_audit(tenant="demo-mt")) == []
        done = await client.post("/admin/ui/tenants/demo-mt/stage", data={**form, "confirm": "yes"})
        assert done.status_code == 303
        (change,) = await runtime.stage_control.store.stage_audit(tenant="demo-mt")
        assert (change.actor, change.product, change.from_stage, change.to_stage) == (
            "otto", "mobile-trust", "pdt", "canary:25",
        )  # fmt: skip
        after = await client.get(done.headers["location"])
        assert "mobile-trust agora em canário 25 %" in after.text
        history = after.text[after.text.index('id="history"') :]
        assert "otto" in history


BASE = {"product": "datatrust-v1", "stage": "shadow"}


@pytest.mark.parametrize(
    ("token", "form", "content_type", "status", "text"),
    [
        ("forged", BASE, None, 403, "expirou"),
        (None, BASE, None, 403, "expirou"),
        ("valid", {**BASE, "product": "ffr"}, None, 400, "Formulário inválido"),
        ("valid", {**BASE, "stage": "sideways"}, None, 400, "Formulário inválido"),
        ("valid", {**BASE, "stage": "canary", "percent": "150"}, None, 400, "Formulário inválido"),
        ("valid", {**BASE, "stage": "canary", "percent": "dez"}, None, 400, "Formulário inválido"),
        ("valid", BASE, "application/json", 400, "Formulário inválido"),
    ],
)
async def test_a_bad_form_is_a_page_never_a_trace(
    tmp_path: Path, token: str | None, form: dict[str, str], content_type: str | None, status: int, text: str
) -> None:
    async with cockpit(tmp_path) as (client, runtime):
        signed(client, "ada-token")
        fields = dict(form)
        if token is not None:
            fields["form_token"] = form_token("ada-token") if token == "valid" else "forged"
        fields["confirm"] = "yes"
        if content_type is None:
            answer = await client.post("/admin/ui/tenants/demo-dt/stage", data=fields)
        else:
            answer = await client.post(
                "/admin/ui/tenants/demo-dt/stage", content=b"{}", headers={"content-type": content_type}
            )
        assert answer.status_code == status
        assert text in answer.text
        assert "Traceback" not in answer.text
        assert (await runtime.stage_control.store.stage_audit(tenant="demo-dt")) == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/admin/ui/estate", 401),
        ("/admin/ui/tenants/demo-dt/live", 401),
        ("/admin/ui/tenants/demo-dt", 303),
        ("/admin/ui/tenants/demo-dt/report", 303),
    ],
)
async def test_signed_out_requests_get_nothing(tmp_path: Path, path: str, status: int) -> None:
    async with cockpit(tmp_path) as (client, _):
        answer = await client.get(path)
        assert answer.status_code == status
        assert "Demo" not in answer.text


async def test_fragments_reports_static_files_and_unknown_tenants(tmp_path: Path) -> None:
    async with cockpit(tmp_path) as (client, _):
        signed(client, "vera-token")
        live = await client.get("/admin/ui/tenants/demo-ffr/live")
        assert 'id="agreement-7d"' in live.text
        assert "<html" not in live.text
        estate = await client.get("/admin/ui/estate?sort=name&desc=1")
        assert estate.text.index("Demo Mobile") < estate.text.index("Demo Data")
        report = await client.get("/admin/ui/tenants/demo-mt/report")
        assert "Backtest da migração para a PDT: Demo Mobile Trust bank" in report.text
        assert "Mudança de comportamento do SMS" in report.text
        assert "<script" not in report.text
        internal = await client.get("/admin/ui/tenants/demo-mt/report?internal=1")
        assert "Cópia interna" in internal.text
        css = await client.get("/admin/ui/static/cockpit.css")
        assert css.headers["content-type"].startswith("text/css")
        js = await client.get("/admin/ui/static/cockpit.js")
        assert "data-live" in js.text
        assert (await client.get("/admin/ui/static/../auth.py")).status_code == 404
        assert (await client.get("/admin/ui/static/other.js")).status_code == 404
        unknown = await client.get("/admin/ui/tenants/nobody")
        assert unknown.status_code == 404
        assert "Não existe cliente nobody." in unknown.text
