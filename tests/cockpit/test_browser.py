"""The cockpit in a real browser: Chromium from Debian's packages driven by Playwright.

The proxy runs as a real process on its embedded defaults (demo tenants, built-in
simulators, SQLite) on a free port. The test signs in with the admin token, finds the
three demo tenants by name, puts one in shadow, sends legacy traffic, watches its
agreement appear without a reload, moves it to canary 10 % and finds the change in
its history. A viewer is not offered stage controls and is refused by the server.

Screenshots land in ``test-artifacts/cockpit/`` (ignored by git) for a person to look at.
Chromium is never downloaded: ``.ci/run`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from proxy.admin.auth import token_sha256
from proxy.config import project_root
from proxy.privacy import find_personal_data

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = project_root() / "test-artifacts" / "cockpit"
ADMIN_TOKEN = "demo-admin-token"
VIEWER_TOKEN = "viewer-token-for-the-browser-test"
FFR_ORDER = {
    "OrderDate": "2017-12-28T13:20:24",
    "Cpf": "01234567890",
    "Email": "teste@teste.com",
    "ValidatedTokenEmail": 1,
    "ValidatedTokenSMS": 1,
    "Phones": [{"TypeID": 1, "DDI": "55", "DDD": "11", "Number": "999999999"}],
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("cockpit-proxy")
    tokens = home / "admin-tokens.yaml"
    tokens.write_text(
        yaml.safe_dump(
            [{"actor": "ana.viewer", "role": "viewer", "token_sha256": token_sha256(VIEWER_TOKEN)}]
        ),
        encoding="utf-8",
    )
    port = _free_port()
    environment = {
        **os.environ,
        "PROXY_DATA_DIR": str(home / "data"),
        "PROXY_ADMIN_TOKENS_FILE": str(tokens),
        # A tokens file turns the demo token off; name it explicitly as the one admin.
        "PROXY_ADMIN_TOKEN": ADMIN_TOKEN,
        "PROXY_LOG_LEVEL": "INFO",
    }
    for name in ("PROXY_CONFIG", "PROXY_DATABASE_DSN", "PROXY_LEDGER_DSN", "PROXY_REDIS_URL"):
        environment.pop(name, None)
    command = [str(Path(sys.executable).parent / "pdt-proxy"), "serve", "--port", str(port)]
    log = (home / "proxy.log").open("wb")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the proxy did not start: {(home / 'proxy.log').read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    # The proxy ran in its own process, out of reach of the suite's log scan: scan its log here.
    leaks = [
        line
        for line in (home / "proxy.log").read_text(errors="replace").splitlines()
        if find_personal_data(line)
    ]
    assert leaks == [], leaks[:3]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed at /usr/bin/chromium: .ci/run installs it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _watch_policy(page: Page) -> list[str]:
    """Every Content-Security-Policy violation the page reports (there must be none)."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    return violations


def _shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/admin/ui/")
    # Keyboard only: the token field has the focus, Enter submits.
    expect(page.get_by_label("Token de administrador")).to_be_focused()
    page.keyboard.type(token)
    page.keyboard.press("Enter")


def _send_ffr_traffic(url: str, count: int) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        login = client.post("/v1/authenticate", data={"name": "demo-ffr", "password": "demo-ffr-secret"})
        headers = {"Authorization": f"Bearer {login.json()['Token']}"}
        for n in range(count):
            answer = client.post(
                "/v1/fintech/fraud/score", json={**FFR_ORDER, "OrderID": f"B{n}"}, headers=headers
            )
            assert answer.status_code == 200, answer.text


def _change_stage(page: Page, stage_id: str, percent: str | None = None) -> None:
    page.locator(f"#{stage_id}").check()
    if percent is not None:
        page.locator("#canary-percent").fill(percent)
    page.locator("#review-change").click()
    expect(page.locator("#confirm-text")).to_be_visible()


def test_the_migration_team_moves_a_tenant_from_shadow_to_canary(proxy_url: str, browser: Browser) -> None:
    context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations = _watch_policy(page)
    _sign_in(page, proxy_url, ADMIN_TOKEN)

    # The estate: the three demo tenants by name.
    table = page.locator("#estate-table")
    for name in ("Demo Data Trust v1 client", "Demo Financial Fraud Radar bank", "Demo Mobile Trust bank"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    expect(page.locator("#signed-in")).to_contain_text("admin")
    _shot(page, "01-estate")

    # Shadow, through the confirmation that says what will change.
    table.get_by_role("link", name="Demo Financial Fraud Radar bank").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo Financial Fraud Radar bank")
    _change_stage(page, "stage-shadow")
    expect(page.locator("#confirm-text")).to_contain_text("de PDT para sombra")
    _shot(page, "02-confirm-shadow")
    page.locator("#confirm-change").click()
    expect(page.locator("#flash")).to_contain_text("ffr agora em sombra")
    expect(page.locator("#agreement-7d")).to_contain_text("n/d")

    # Legacy traffic from outside; the figures refresh without a reload.
    page.evaluate("window.__notReloaded = true")
    _send_ffr_traffic(proxy_url, 4)
    expect(page.locator("#agreement-7d")).to_contain_text(re.compile(r"\d+,\d%"), timeout=30_000)
    expect(page.locator("#agreement-7d")).to_contain_text("4 amostras")
    assert page.evaluate("window.__notReloaded === true"), "the figures came by a reload, not a refresh"
    _shot(page, "03-tenant-shadow-agreement")

    # Canary 10 %, and the change in the history, by the signed-in actor.
    _change_stage(page, "stage-canary", "10")
    expect(page.locator("#confirm-text")).to_contain_text("de sombra para canário 10 %")
    page.locator("#confirm-change").click()
    expect(page.locator("#flash")).to_contain_text("canário 10 %")
    latest = page.locator("#history tr").nth(1)
    expect(latest).to_contain_text("admin")
    expect(latest).to_contain_text("sombra")
    expect(latest).to_contain_text("canário 10 %")
    expect(latest).to_contain_text("horário de Brasília")
    _shot(page, "04-tenant-canary-history")

    # English by the switch; the choice holds on the next page.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Stage history")).to_be_visible()
    page.goto(f"{proxy_url}/admin/ui/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tenants in migration")

    # A phone's width: the page still reads (the table scrolls inside its box).
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{proxy_url}/admin/ui/?lang=pt-BR")
    expect(page.get_by_role("link", name="Demo Mobile Trust bank")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width}px wide on a 390px phone"
    _shot(page, "05-estate-phone")
    page.goto(f"{proxy_url}/admin/ui/tenants/demo-ffr")
    _shot(page, "06-tenant-phone")
    assert violations == []
    context.close()


def test_a_viewer_sees_everything_but_no_stage_controls(proxy_url: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    violations = _watch_policy(page)
    page.goto(f"{proxy_url}/admin/ui/")
    page.get_by_label("Admin token").fill(VIEWER_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signed-in")).to_contain_text("ana.viewer · viewer")
    page.get_by_role("link", name="Demo Data Trust v1 client").click()
    expect(page.locator("#viewer-note")).to_be_visible()
    expect(page.locator("#review-change")).to_have_count(0)
    _shot(page, "07-tenant-viewer")
    # The server refuses anyway, whatever the browser sends.
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    refused = httpx.post(
        f"{proxy_url}/admin/ui/tenants/demo-dt/stage",
        data={"product": "datatrust-v1", "stage": "pdt", "confirm": "yes", "form_token": "x"},
        cookies=cookies,
    )
    assert refused.status_code == 403
    assert violations == []
    context.close()
