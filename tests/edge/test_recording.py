"""Recording in the request path, and the replay loop it feeds (issue: record and replay).

A shadow run records legacy-answered exchanges, masked; the exported corpus
replays cleanly against the simulators; one altered mapping rule makes the same
replay fail and name that rule.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import orjson
import pytest

from proxy.cli import main
from proxy.config import LegacySettings, LegacySimulatorSettings, RecorderSettings, Settings, project_root
from proxy.db.location import sqlite_path
from tests.admin.test_tenant_routes import ADMIN, dt_headers, person, proxy_app
from tests.conftest import make_settings


def recording(tmp_path: Path) -> Settings:
    # The legacy simulator agrees with PDT for everyone here: a clean replay must match.
    legacy = LegacySettings(simulator=LegacySimulatorSettings(disagreement_rate=0.0))
    # A fixed corpus key: the pseudonyms (and so the people the replay asks about) are the
    # same every run; a fresh random key made the altered-rule replay miss rating 3 at times.
    recorder = RecorderSettings(enabled=True, sample_rate=1.0, key="recording-test-corpus-key")
    return make_settings(tmp_path, recorder=recorder, legacy=legacy)


async def shadow_run(settings: Settings, people: int) -> list[dict[str, object]]:
    sent = [person(n) for n in range(people)]
    async with proxy_app(settings) as (client, runtime):
        await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
        headers = await dt_headers(client)
        for body in sent:
            created = await client.post("/products/v1/datatrust", json=body, headers=headers)
            assert created.status_code == 200
            read = await client.get(
                f"/products/v1/datatrust/{created.json()['transactionId']}", headers=headers
            )
            assert read.status_code == 200
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
    return sent


def test_a_shadow_run_records_exports_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = recording(tmp_path)
    sent = asyncio.run(shadow_run(settings, 4))
    monkeypatch.setenv("PROXY_DATA_DIR", str(settings.data_dir))
    corpus = tmp_path / "demo-dt.jsonl"
    assert main(["record", "export", "--tenant", "demo-dt", "--out", str(corpus)]) == 0
    lines = [orjson.loads(line) for line in corpus.read_bytes().splitlines() if line.strip()]
    assert len(lines) == 8  # a create and a read per person
    text = corpus.read_text(encoding="utf-8")
    for body in sent:
        assert str(body["Document"]) not in text
        assert str(body["Email"]) not in text
    assert not re.search(r"Bearer\s+\w", text)

    capsys.readouterr()
    assert main(["replay", str(corpus), "--quiet"]) == 0, capsys.readouterr().out

    # One altered DE-PARA row: the same replay fails and names the rule behind it.
    altered = tmp_path / "mappings"
    shutil.copytree(project_root() / "mappings", altered)
    table = altered / "datatrust-v1" / "tables" / "rating-values.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("3,High", "3,Medium"), encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(corpus), "--mappings", str(altered), "--quiet"]) == 3
    assert "dt.resp.rating.value" in capsys.readouterr().out


async def test_pdt_answers_are_not_recorded(tmp_path: Path) -> None:
    settings = recording(tmp_path)
    async with proxy_app(settings) as (client, _):
        headers = await dt_headers(client)
        assert (
            await client.post("/products/v1/datatrust", json=person(1), headers=headers)
        ).status_code == 200
    # Recorded exchanges live in the proxy's database: none there, and no corpus file either.
    with closing(sqlite3.connect(sqlite_path(settings))) as database:
        assert database.execute("SELECT COUNT(*) FROM recorded_exchange").fetchone() == (0,)
        # The request itself was recorded in the ledger: the query above read the right file.
        assert database.execute("SELECT COUNT(*) FROM ledger").fetchone() == (1,)
    assert list(settings.data_dir.glob("corpus/*.jsonl")) == []
