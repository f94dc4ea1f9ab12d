"""Mobile Trust's SMS progression, the bounded store, settings, startup checks and the CLI."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

import httpx
import pydantic
import pytest

from proxy import cli
from proxy.errors import ConfigError
from proxy.mapping.catalog import MappingCatalog
from proxy.simulators.legacy import (
    DEMO_ACCOUNTS,
    LegacySimulatorSettings,
    accounts_from_tenants,
    create_legacy_simulator,
)
from proxy.simulators.legacy.sms import SmsReply, SmsStatus, sms_reply, sms_status
from proxy.simulators.legacy.state import LegacySimulator
from proxy.simulators.legacy.vocabulary import load_vocabularies

from .legacy_support import (
    ACCOUNTS,
    DT_EXAMPLE,
    DT_PRD,
    MT_EXAMPLE,
    V1_PRD,
    assert_valid_answer,
    catalog,
    documents,
    make_legacy_app,
    open_legacy,
)
from .support import FakeClock

SENT_AT: Final = 1_000.0

# (sent_at, reply, seconds later, reply after, expiry) -> status
SMS_CASES: Final[list[tuple[float | None, SmsReply, float, float, float, SmsStatus]]] = [
    (None, "Confirmed", 999, 30, 300, "Blocked"),
    (SENT_AT, "Confirmed", 0, 30, 300, "Sent"),
    (SENT_AT, "Confirmed", 29.9, 30, 300, "Sent"),
    (SENT_AT, "Confirmed", 30, 30, 300, "Confirmed"),
    (SENT_AT, "Denied", 299, 30, 300, "Denied"),
    (SENT_AT, "Denied", 10_000, 30, 300, "Denied"),
    (SENT_AT, None, 299, 30, 300, "Sent"),
    (SENT_AT, None, 300, 30, 300, "Expired"),
    (SENT_AT, "Confirmed", 400, 300, 300, "Expired"),
]


@pytest.mark.parametrize(("sent_at", "reply", "later", "reply_after", "expiry", "status"), SMS_CASES)
def test_sms_status_progression(
    sent_at: float | None, reply: SmsReply, later: float, reply_after: float, expiry: float, status: SmsStatus
) -> None:
    now = (sent_at or 0.0) + later
    assert (
        sms_status(sent_at=sent_at, reply=reply, now=now, reply_after_s=reply_after, expiry_s=expiry)
        == status
    )


def test_sms_replies_follow_the_risk() -> None:
    ids = [f"transaction-{n}" for n in range(3000)]
    safe = [sms_reply(i, 0.0) for i in ids]
    risky = [sms_reply(i, 100.0) for i in ids]
    assert abs(safe.count(None) / len(ids) - 0.2) < 0.03
    assert "Denied" not in safe
    assert "Confirmed" not in risky
    assert [r is None for r in safe] == [r is None for r in risky]
    assert [sms_reply(i, 40.0) for i in ids] == [sms_reply(i, 40.0) for i in ids]


@pytest.mark.parametrize("block", [False, None])
async def test_mobile_trust_sms_goes_out_and_progresses(clock: FakeClock, block: bool | None) -> None:
    body: dict[str, Any] = {**MT_EXAMPLE, "BlockSmsSending": block}
    if block is None:
        del body["BlockSmsSending"]
    async with open_legacy(make_legacy_app(clock=clock)) as legacy:
        sim: LegacySimulator = legacy.sim
        seen: dict[str, SmsStatus] = {}
        for document in documents(25, start=900_000_000):
            created = await legacy.mobile_trust({**body, "Document": document})
            assert created["Sms"] == {"Status": "Sent"}
            tid = created["TransactionID"]
            reply = sms_reply(tid, sim.profile_for(document).risk_score)
            headers = await legacy.v1_headers("mt-user")
            for step, later in ((0, 29), (1, 31), (2, 301)):
                clock.now += later - (0 if step == 0 else (29 if step == 1 else 31))
                answer = (
                    await legacy.client.get(f"{V1_PRD}/mobiletrust/transaction/{tid}", headers=headers)
                ).json()
                assert_valid_answer("mobiletrust.transaction.get", answer)
                expected = sms_status(
                    sent_at=clock.now - later, reply=reply, now=clock.now, reply_after_s=30, expiry_s=300
                )
                assert answer["Sms"]["Status"] == expected
                seen[expected] = expected
            clock.now -= 301
    assert {"Sent", "Confirmed", "Expired"} <= set(seen)


async def test_the_store_forgets_the_oldest_past_its_bound(clock: FakeClock) -> None:
    settings = LegacySimulatorSettings(disagreement_rate=0, max_transactions=2)
    async with open_legacy(make_legacy_app(settings, clock=clock)) as legacy:
        ids = [(await legacy.datatrust(DT_EXAMPLE))["transactionId"] for _ in range(3)]
        headers = await legacy.dt_headers()
        statuses = [
            (await legacy.client.get(f"{DT_PRD}/datatrust/{i}", headers=headers)).status_code for i in ids
        ]
        assert statuses == [404, 200, 200]
        assert len(legacy.sim.store) == 2


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"disagreement_rate": 1.5},
        {"disagreement_rate": -0.1},
        {"fault_rate": 2},
        {"max_score_shift": 0},
        {"latency_ms": -1},
        {"unknown": 1},
    ],
)
def test_settings_refuse_nonsense(changes: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        LegacySimulatorSettings.model_validate(changes)


def test_settings_are_frozen_with_reasoned_defaults() -> None:
    settings = LegacySimulatorSettings()
    with pytest.raises(pydantic.ValidationError):
        settings.disagreement_rate = 0.5  # type: ignore[misc]
    assert (settings.disagreement_rate, settings.fault_rate, settings.latency_ms) == (0.1, 0.0, 0.0)
    assert settings.token_ttl_s == 3600


# -- startup checks -------------------------------------------------------------------------------


def without_product(name: str) -> MappingCatalog:
    products = {key: value for key, value in catalog().products.items() if key != name}
    return dataclasses.replace(catalog(), products=products)


def with_product_change(name: str, **changes: Any) -> MappingCatalog:
    products = dict(catalog().products)
    products[name] = dataclasses.replace(products[name], **changes)
    return dataclasses.replace(catalog(), products=products)


def renamed_operation() -> MappingCatalog:
    product = catalog().products["ffr"]
    route = product.routes[0]
    extra = dataclasses.replace(
        route,
        spec=route.spec.model_copy(update={"path": "/other"}),
        operation=dataclasses.replace(route.operation, name="ffr.other"),
    )
    return with_product_change("ffr", routes=(route, extra))


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (without_product("mobile-trust"), "mobile-trust"),
        (with_product_change("datatrust-v1", tables={}), "insights"),
        (renamed_operation(), "ffr.other"),
    ],
)
def test_a_catalog_the_simulator_cannot_speak_stops_startup(broken: MappingCatalog, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_legacy_simulator(LegacySimulatorSettings(), catalog=broken, accounts=ACCOUNTS)


def test_ffr_caps_come_from_the_contract() -> None:
    assert dict(load_vocabularies(catalog()).ffr.caps) == {"Negative": 7, "Positive": 3, "AttackAlert": 3}


# -- accounts and the command line -------------------------------------------------------------------


def test_demo_accounts_without_a_tenant_file() -> None:
    accounts, grants = accounts_from_tenants(None)
    assert accounts == dict(DEMO_ACCOUNTS)
    assert grants["demo-mt"] == frozenset({"mobile-trust"})


def test_simulate_legacy_builds_the_app_from_the_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[Any, str, int]] = []

    def fake_run(app: Any, host: str, port: int, **_: Any) -> None:
        started.append((app, host, port))

    monkeypatch.setattr(cli, "_run_uvicorn", fake_run)
    monkeypatch.delenv("PROXY_CONFIG", raising=False)
    argv = [
        "simulate",
        "legacy",
        "--port",
        "9123",
        "--disagreement-rate",
        "0.25",
        "--latency-ms",
        "5",
        "--fault-rate",
        "0.1",
    ]
    assert cli.main(argv) == 0
    app, host, port = started[0]
    settings: LegacySimulatorSettings = app.state.legacy_simulator.settings
    assert (host, port) == ("127.0.0.1", 9123)
    assert (settings.disagreement_rate, settings.latency_ms, settings.fault_rate) == (0.25, 5.0, 0.1)
    assert app.state.legacy_simulator.may_use("demo-dt", "datatrust-v1")
    assert not app.state.legacy_simulator.may_use("demo-dt", "ffr")


def test_simulate_legacy_refuses_a_bad_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_run_uvicorn", lambda *args, **kwargs: None)
    monkeypatch.delenv("PROXY_CONFIG", raising=False)
    with pytest.raises(SystemExit, match="disagreement_rate"):
        cli.main(["simulate", "legacy", "--disagreement-rate", "3"])


async def test_mounted_in_process_next_to_another_app(clock: FakeClock) -> None:
    app = make_legacy_app(clock=clock)
    async with open_legacy(app) as legacy:
        answer = await legacy.client.post(
            f"{V1_PRD}/mobiletrust/transaction", json=MT_EXAMPLE, headers=await legacy.v1_headers("all-user")
        )
        assert answer.status_code == 200


def test_simulate_legacy_serves_the_three_products_in_a_real_process(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROXY_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROXY_CONFIG", None)
    argv = ["simulate", "legacy", "--port", str(port), "--disagreement-rate", "0"]
    log = tmp_path / "legacy.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
            [sys.executable, "-m", "proxy.cli", *argv], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/v1/authenticate", timeout=1).status_code == 405:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the legacy simulator never became ready"
            time.sleep(0.1)
        login = httpx.post(f"{base}/v1/authenticate", data={"name": "demo-mt", "password": "demo-mt-secret"})
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['Token']}"}
        answer = httpx.post(f"{base}/v1/mobiletrust/transaction", json=MT_EXAMPLE, headers=headers)
        assert answer.status_code == 200
        assert_valid_answer("mobiletrust.transaction.create", answer.json())
        refused = httpx.post(
            f"{base}/products/v1/authentication", json={"Username": "demo-dt", "Password": "wrong"}
        )
        assert (refused.status_code, refused.json()) == (
            400,
            {"message": "Username or Password is incorrect"},
        )
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert "19678335832" not in log.read_text()
