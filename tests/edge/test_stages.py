"""Every stage against every upstream condition: who answers, with what, and what is metered.

The stage table runs over the production transport: both simulators are served on
loopback ports and called as real hosts (``tests.support.loopback``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import orjson
import pytest

from proxy.config import LegacySettings, LegacySimulatorSettings, SimulatorSettings, project_root
from proxy.ledger.month import Month
from proxy.migration_stage import Stage
from tests.admin.test_tenant_routes import ADMIN, dt_headers, person, proxy_app
from tests.conftest import make_settings
from tests.support.loopback import loopback_settings

ANSWER = jsonschema.Draft7Validator(
    orjson.loads((project_root() / "mappings/datatrust-v1/contract/transaction.response.json").read_bytes())
)
UP, DOWN = True, False


def expected(stage: str, pdt_up: bool, legacy_up: bool) -> tuple[int, str, str | None]:
    """(status, side that answered, fallback cause): the stage table of the README."""
    if stage in ("legacy", "shadow", "canary:0"):
        return (200 if legacy_up else 503), "legacy", None
    if stage in ("pdt", "canary:100"):
        return (200 if pdt_up else 503), "pdt", None
    # pdt-fallback
    if pdt_up:
        return 200, "pdt", None
    return (200 if legacy_up else 503), "legacy", "unavailable"


@pytest.mark.parametrize("stage", ["legacy", "shadow", "canary:0", "canary:100", "pdt", "pdt-fallback"])
@pytest.mark.parametrize(
    ("pdt_up", "legacy_up"),
    [(UP, UP), (DOWN, UP), (UP, DOWN), (DOWN, DOWN)],
    ids=["both-up", "pdt-down", "legacy-down", "both-down"],
)
async def test_stage_table(tmp_path: Path, stage: str, pdt_up: bool, legacy_up: bool) -> None:
    served = loopback_settings(
        tmp_path,
        simulator=SimulatorSettings(fault_rate=0.0 if pdt_up else 1.0),
        legacy=LegacySettings(simulator=LegacySimulatorSettings(fault_rate=0.0 if legacy_up else 1.0)),
    )
    status, side, cause = expected(stage, pdt_up, legacy_up)
    async with served as settings, proxy_app(settings) as (client, runtime):
        parsed = Stage.parse(stage)
        body = (
            {"stage": parsed.name, "percent": parsed.percent} if parsed.name == "canary" else {"stage": stage}
        )
        assert (await client.put("/admin/tenants/demo-dt/stage", json=body, headers=ADMIN)).status_code == 200
        answer = await client.post("/products/v1/datatrust", json=person(1), headers=await dt_headers(client))
        if runtime.shadow is not None:
            await runtime.shadow.drain(10.0)
        rows = await runtime.ledger.usage(Month.of(datetime.now(UTC)))
        metrics = runtime.metrics.render()[0].decode()
    assert answer.status_code == status, answer.text
    if status == 200:
        ANSWER.validate(answer.json())
    else:
        assert list(answer.json()) == ["message"]  # the family's error, never a trace
    [row] = [row for row in rows if row.tenant == "demo-dt"]
    assert (row.side, row.stage, row.status, row.count) == (side, stage, status, 1)
    fallbacks = [line for line in metrics.splitlines() if line.startswith("pdt_proxy_fallbacks_total{")]
    assert fallbacks == ([] if cause is None else [fallbacks[0]])
    if cause is not None:
        assert f'cause="{cause}"' in fallbacks[0]


async def test_fallback_with_pdt_stopped_keeps_every_answer_well_formed(tmp_path: Path) -> None:
    """Done-when of the stages issue: pdt-fallback and a PDT that fails every call."""
    settings = make_settings(tmp_path, simulator=SimulatorSettings(fault_rate=1.0))
    async with proxy_app(settings) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "pdt-fallback"}, headers=ADMIN)
        headers = await dt_headers(client)
        answers = [
            await client.post("/products/v1/datatrust", json=person(n), headers=headers) for n in range(40)
        ]
        metrics = runtime.metrics.render()[0].decode()
        listing = (await client.get("/admin/tenants", headers=ADMIN)).json()["tenants"]
    for answer in answers:
        assert answer.status_code == 200
        ANSWER.validate(answer.json())
    [count] = [line for line in metrics.splitlines() if line.startswith("pdt_proxy_fallbacks_total{")]
    assert count.endswith(" 40.0")
    legacy = next(entry for entry in listing if entry["tenant"] == "demo-dt")["legacy_calls"]
    assert legacy["this_month"] == {"datatrust-v1": 40}
    assert legacy["this_process"]["datatrust-v1"]["count"] == 40


async def test_shadow_with_a_pdt_that_never_answers_still_answers_every_client(tmp_path: Path) -> None:
    from proxy.config import ShadowSettings

    settings = make_settings(
        tmp_path,
        simulator=SimulatorSettings(latency_ms=600_000.0),
        shadow=ShadowSettings(timeout_s=0.2, workers=2, queue_size=4),
    )
    async with proxy_app(settings) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        headers = await dt_headers(client)
        answers = [
            await client.post("/products/v1/datatrust", json=person(n), headers=headers) for n in range(10)
        ]
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        metrics = runtime.metrics.render()[0].decode()
    assert [answer.status_code for answer in answers] == [200] * 10
    for answer in answers:
        ANSWER.validate(answer.json())
    # Every sample either timed out on its own deadline or was dropped at the full queue.
    outcomes = {
        line.split('outcome="', 1)[1].split('"', 1)[0]
        for line in metrics.splitlines()
        if line.startswith("pdt_proxy_shadow_comparisons_total{")
    }
    assert outcomes <= {"timeout"}
    assert "timeout" in outcomes


async def test_the_shadow_never_sends_the_customer_a_second_sms(tmp_path: Path) -> None:
    from proxy.mapping.examples import load_example

    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        sent: list[str] = []
        original = runtime.pdt.send_token

        async def spy(call: object, transaction_id: str, channel: str) -> dict[str, object]:
            sent.append(channel)
            return await original(call, transaction_id, channel)  # type: ignore[arg-type]

        runtime.pdt.send_token = spy  # type: ignore[method-assign]
        await client.put("/admin/tenants/demo-mt/stage", json={"stage": "shadow"}, headers=ADMIN)
        login = await client.post("/v1/authenticate", data={"name": "demo-mt", "password": "demo-mt-secret"})
        headers = {"authorization": f"Bearer {login.json()['Token']}"}
        body = {**load_example("mobile-trust", "transaction.request"), "BlockSmsSending": False}
        answer = await client.post("/v1/mobiletrust/transaction", json=body, headers=headers)
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        report = (await client.get("/admin/tenants/demo-mt/backtest", headers=ADMIN)).json()
    assert answer.json()["Sms"] == {"Status": "Sent"}  # the legacy backend's SMS
    assert sent == []
    assert report["samples"] == 1


async def test_a_tenant_wide_change_moves_products_switched_on_their_own(tmp_path: Path) -> None:
    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        await client.put(
            "/admin/tenants/demo-dt/stage", json={"stage": "legacy", "product": "datatrust-v1"}, headers=ADMIN
        )
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "pdt"}, headers=ADMIN)
        tenant = runtime.tenants.tenants["demo-dt"]
        assert runtime.stages.stage_for(tenant, "datatrust-v1").label == "pdt"
        audit = (await client.get("/admin/tenants/demo-dt/stage/audit", headers=ADMIN)).json()["changes"]
    assert [(c["product"], c["from"], c["to"]) for c in audit] == [
        ("datatrust-v1", "legacy", "pdt"),
        (None, "pdt", "pdt"),
        ("datatrust-v1", "pdt", "legacy"),
    ]
