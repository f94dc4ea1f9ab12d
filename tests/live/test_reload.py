"""Reloading a running proxy: accepted, refused, tenants added and removed, replicas following."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from proxy.config import Settings
from proxy.runtime import Runtime
from proxy.simulators.pdt import create_pdt_simulator
from proxy.upstream.seam import SendLimits, UpstreamAnswer
from proxy.upstream.transport import build_transport
from tests.db.support import Database
from tests.live.support import ADMIN, DT_BODY, app_client, clone_tenant, drop_tenant, editable_settings, login


def _reloads(runtime: Runtime) -> dict[str, float]:
    body, _ = runtime.metrics.render()
    found: dict[str, float] = {}
    for line in body.decode().splitlines():
        if line.startswith("pdt_proxy_config_reloads_total{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            found[outcome] = float(line.rsplit(" ", 1)[1])
    return found


def _info_versions(runtime: Runtime) -> list[str]:
    body, _ = runtime.metrics.render()
    return [
        line.split('version="', 1)[1].split('"', 1)[0]
        for line in body.decode().splitlines()
        if line.startswith("pdt_proxy_config_info{")
    ]


async def test_an_unchanged_reload_is_ok_and_changes_nothing(tmp_path: Path) -> None:
    async with app_client(editable_settings(tmp_path)) as (client, runtime):
        before = runtime.live.current
        answer = await client.post("/admin/reload", headers=ADMIN)
        assert runtime.live.current is before
    assert answer.status_code == 200
    assert answer.json()["changed"] is False
    assert answer.json()["version"] == before.fingerprint.version
    assert _reloads(runtime) == {"ok": 1.0}


async def test_an_edited_file_is_a_new_version_in_the_answer_and_the_metric(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    async with app_client(settings) as (client, runtime):
        old = runtime.live.current.fingerprint
        compare = settings.mappings_dir / "compare.yaml"
        compare.write_text(compare.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
        answer = (await client.post("/admin/reload", headers=ADMIN)).json()
        assert runtime.compare_rules is runtime.live.current.compare_rules
    assert answer["changed"] is True
    assert answer["version"] != old.version
    assert answer["hashes"]["compare"] != old.parts["compare"]
    assert answer["hashes"]["mappings"] == old.parts["mappings"]
    assert _info_versions(runtime) == [answer["short"]]


@pytest.mark.parametrize(
    ("file", "edit", "expected_file", "expected_rule"),
    [
        pytest.param("compare.yaml", "operations: [unclosed\n", "compare.yaml", None, id="broken YAML"),
        pytest.param(
            "tenants.yaml", "tenants:\n  - id: x\n", "tenants.yaml", None, id="tenant without products"
        ),
        pytest.param(
            "datatrust-v1/product.yaml", "name: [\n", "datatrust-v1/product.yaml", None, id="broken product"
        ),
    ],
)
async def test_a_refused_set_keeps_serving_and_names_file_and_reason(
    tmp_path: Path, file: str, edit: str, expected_file: str, expected_rule: str | None
) -> None:
    settings = editable_settings(tmp_path)
    path = tmp_path / file if file == "tenants.yaml" else settings.mappings_dir / file
    async with app_client(settings) as (client, runtime):
        running = runtime.live.current
        path.write_text(edit, encoding="utf-8")
        answer = await client.post("/admin/reload", headers=ADMIN)
        assert runtime.live.current is running
        # Still answering on the old set: logins and operations.
        assert (await login(client, "demo-dt", "demo-dt-secret")).status_code == 200
        described = (await client.get("/admin/config", headers=ADMIN)).json()
    assert answer.status_code == 422
    refused = answer.json()["refused"]
    assert set(refused) == {"file", "rule", "reason"}
    assert refused["file"].endswith(expected_file)
    assert refused["rule"] == expected_rule
    assert refused["reason"]
    assert answer.json()["version"] == running.fingerprint.version
    assert _reloads(runtime) == {"refused": 1.0}
    assert described["last_reload"]["outcome"] == "refused"
    assert described["reloads"][0]["outcome"] == "refused"
    assert described["reloads"][0]["detail"].startswith(refused["file"])


async def test_a_removed_tenants_token_is_refused_after_the_reload(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    async with app_client(settings) as (client, _):
        token = (await login(client, "demo-dt", "demo-dt-secret")).json()["token"]
        headers = {"authorization": f"Bearer {token}"}
        assert (await client.post("/products/v1/datatrust", json=DT_BODY, headers=headers)).status_code == 200
        drop_tenant(settings, "demo-dt")
        assert (await client.post("/admin/reload", headers=ADMIN)).status_code == 200
        after = await client.post("/products/v1/datatrust", json=DT_BODY, headers=headers)
        # The verified-logins cache must not let the removed tenant back in either.
        relogin = await login(client, "demo-dt", "demo-dt-secret")
    assert after.status_code == 401
    assert relogin.status_code != 200


async def test_a_tenant_added_by_a_reload_can_log_in(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    async with app_client(settings) as (client, runtime):
        assert (await login(client, "demo-dt2", "demo-dt-secret")).status_code != 200
        clone_tenant(settings, "demo-dt", "demo-dt2")
        assert (await client.post("/admin/reload", headers=ADMIN)).status_code == 200
        answer = await login(client, "demo-dt2", "demo-dt-secret")
        listed = (await client.get("/admin/tenants", headers=ADMIN)).json()["tenants"]
        # Its own PDT account on the built-in simulator, learnt from the reloaded file.
        headers = {"authorization": f"Bearer {answer.json()['token']}"}
        scored = await client.post("/products/v1/datatrust", json=DT_BODY, headers=headers)
    assert answer.status_code == 200
    assert scored.status_code == 200, scored.text
    assert "demo-dt2" in {entry["tenant"] for entry in listed}
    assert runtime.stages.current("demo-dt2", None).label == "pdt"


async def test_a_reload_on_one_replica_is_followed_by_the_other(tmp_path: Path, database: Database) -> None:
    # Two apps on one database (a SQLite file, or PostgreSQL), reading one copy of the
    # files (as two pods with one ConfigMap): the second reloads when the generation moves.
    settings = editable_settings(tmp_path, environ=database.environ(PROXY_DATA_DIR=str(tmp_path / "data")))
    async with app_client(settings) as (first, runtime_a), app_client(settings) as (_, runtime_b):
        assert runtime_b.reloader is not None
        clone_tenant(settings, "demo-dt", "demo-dt2")
        answer = (await first.post("/admin/reload", headers=ADMIN)).json()
        # Polled deterministically instead of waiting for the 1 s timer.
        followed = await runtime_b.reloader.follow()
        again = await runtime_b.reloader.follow()
    assert followed is not None
    assert followed.ok
    assert followed.changed
    assert again is None
    assert runtime_b.live.current.fingerprint.version == answer["version"]
    assert "demo-dt2" in runtime_b.tenants.tenants
    assert runtime_a.live.current.fingerprint.version == answer["version"]


async def test_a_refused_reload_does_not_move_the_other_replicas(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    async with app_client(settings) as (first, _), app_client(settings) as (_, runtime_b):
        assert runtime_b.reloader is not None
        (settings.mappings_dir / "compare.yaml").write_text("operations: [\n", encoding="utf-8")
        assert (await first.post("/admin/reload", headers=ADMIN)).status_code == 422
        assert await runtime_b.reloader.follow() is None


class _Gate:
    """The PDT simulator, with the first request held until the test releases it."""

    def __init__(self, settings: Settings) -> None:
        accounts = {"demo-dt-pdt-prd": "demo-dt-pdt-prd-secret"}
        simulator = create_pdt_simulator(
            settings.simulator,
            catalogue_path=settings.mappings_dir / "pdt" / "insights.csv",
            accounts=accounts,
        )
        self._inner = build_transport(settings.pdt, simulator_app=simulator)
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, limits: SendLimits
    ) -> UpstreamAnswer:
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        return await self._inner.send(method, url, headers, body, limits)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _descriptions(answer: httpx.Response) -> list[str]:
    return [insight["description"] for insight in answer.json()["insights"]]


async def test_an_in_flight_request_finishes_on_its_set_and_the_next_gets_the_new_one(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    gate = _Gate(settings)
    table = settings.mappings_dir / "datatrust-v1" / "tables" / "insights.csv"
    async with app_client(settings, transport=gate) as (client, _):
        token = (await login(client, "demo-dt", "demo-dt-secret")).json()["token"]
        headers = {"authorization": f"Bearer {token}"}
        slow = asyncio.create_task(client.post("/products/v1/datatrust", json=DT_BODY, headers=headers))
        await gate.held.wait()
        # A DE-PARA fix: every description of the table changes.
        head, *rows = table.read_text(encoding="utf-8").splitlines()
        edited = [
            ",".join([*row.split(",")[:2], row.split(",")[2] + " (rev 2)", *row.split(",")[3:]])
            for row in rows
        ]
        table.write_text("\n".join([head, *edited]) + "\n", encoding="utf-8")
        assert (await client.post("/admin/reload", headers=ADMIN)).json()["changed"] is True
        gate.release.set()
        in_flight = await slow
        after = await client.post("/products/v1/datatrust", json=DT_BODY, headers=headers)
    assert in_flight.status_code == after.status_code == 200
    assert _descriptions(in_flight)
    assert not any(text.endswith("(rev 2)") for text in _descriptions(in_flight))
    assert _descriptions(after)
    assert all(text.endswith("(rev 2)") for text in _descriptions(after))


async def test_a_reload_asked_from_outside_the_loop_runs_on_it(tmp_path: Path) -> None:
    # The SIGHUP handler's path: request_reload is thread-safe and returns at once.
    settings = editable_settings(tmp_path)
    async with app_client(settings) as (_, runtime):
        assert runtime.reloader is not None
        clone_tenant(settings, "demo-dt", "demo-dt2")
        await asyncio.to_thread(runtime.reloader.request_reload, actor="signal", trigger="signal")
        for _ in range(200):
            if runtime.reloader.last is not None:
                break
            await asyncio.sleep(0.01)
    assert runtime.reloader.last is not None
    assert runtime.reloader.last.trigger == "signal"
    assert "demo-dt2" in runtime.tenants.tenants


async def test_the_openapi_document_follows_a_reload(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    contract = settings.mappings_dir / "datatrust-v1" / "contract" / "authentication.request.json"
    async with app_client(settings) as (client, _):
        before = (await client.get("/openapi.json")).text
        text = contract.read_text(encoding="utf-8")
        contract.write_text(
            text.replace("Length limits: reconstructed.", "Length limits: revised."), encoding="utf-8"
        )
        assert (await client.post("/admin/reload", headers=ADMIN)).json()["changed"] is True
        after = (await client.get("/openapi.json")).text
    assert "Length limits: reconstructed." in before
    assert "Length limits: revised." in after


async def test_a_failing_follower_does_not_hold_the_others_back(tmp_path: Path) -> None:
    settings = editable_settings(tmp_path)
    seen: list[str] = []

    def broken(old: object, new: object) -> None:
        raise RuntimeError("a bug in one follower")

    async with app_client(settings) as (client, runtime):
        runtime.live.subscribe(broken)
        runtime.live.subscribe(lambda old, new: seen.append("after"))
        clone_tenant(settings, "demo-dt", "demo-dt2")
        answer = await client.post("/admin/reload", headers=ADMIN)
    assert answer.status_code == 200
    assert seen == ["after"]
    assert "demo-dt2" in runtime.tenants.tenants
