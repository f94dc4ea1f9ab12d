"""``record export``: one tenant's recorded exchanges, in time order, as one corpus."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from proxy.cli import main
from proxy.replay.export import export_corpus, export_recorded, select
from proxy.state.corpus import CorpusError, entry_to_line, read_corpus
from tests.db.support import Database
from tests.recording.support import MOMENT, entry

HOUR = timedelta(hours=1)
ENTRIES = [
    entry(tenant="acme", time=MOMENT + 2 * HOUR),
    entry(tenant="acme", time=MOMENT),
    entry(tenant="other", time=MOMENT + HOUR),
    entry(tenant="acme", time=MOMENT + HOUR),
]
WINDOWS: list[tuple[datetime | None, datetime | None, list[datetime]]] = [
    (None, None, [MOMENT, MOMENT + HOUR, MOMENT + 2 * HOUR]),
    (MOMENT + HOUR, None, [MOMENT + HOUR, MOMENT + 2 * HOUR]),
    (None, MOMENT + HOUR, [MOMENT]),  # until is exclusive
    (MOMENT + 3 * HOUR, None, []),
]


@pytest.mark.parametrize(("since", "until", "times"), WINDOWS)
def test_select_one_tenant_in_a_window_oldest_first(
    since: object, until: object, times: list[object]
) -> None:
    chosen = select(ENTRIES, tenant="acme", since=since, until=until)  # type: ignore[arg-type]
    assert [item.time for item in chosen] == times


def _recorded(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / "corpus-1-20261123T100000000000.jsonl").write_bytes(entry_to_line(ENTRIES[0]))
    (directory / "corpus-1.jsonl").write_bytes(b"".join(entry_to_line(item) for item in ENTRIES[1:]))
    (directory / "corpus.key").write_bytes(b"k" * 32)


def test_export_reads_rotated_and_live_files(tmp_path: Path) -> None:
    _recorded(tmp_path / "corpus")
    out = tmp_path / "out" / "acme.jsonl"
    assert export_corpus(tmp_path / "corpus", out, tenant="acme") == 3
    assert [item.tenant for item in read_corpus(out)] == ["acme"] * 3


def test_the_cli_exports_from_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _recorded(tmp_path / "data" / "corpus")
    monkeypatch.setenv("PROXY_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "acme.jsonl"
    assert (
        main(["record", "export", "--tenant", "acme", "--out", str(out), "--since", "2026-11-23T10:30:00Z"])
        == 0
    )
    assert "2 exchanges" in capsys.readouterr().out
    assert len(list(read_corpus(out))) == 2


def test_a_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--since"):
        main(["record", "export", "--tenant", "a", "--out", str(tmp_path / "x"), "--since", "yesterday"])


async def _record_into(database: Database) -> None:
    store = database.state_store()
    await store.open()
    try:
        await store.save_recorded(ENTRIES)
    finally:
        await store.close()


def test_the_cli_exports_every_replicas_exchanges_from_the_database(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(_record_into(database))
    for name, value in database.environ().items():
        monkeypatch.setenv(name, value)
    if database.dsn:
        # Nothing on this replica's disk: the database alone holds the corpus.
        monkeypatch.setenv("PROXY_DATA_DIR", str(tmp_path / "empty"))
    out = tmp_path / "acme.jsonl"
    assert (
        main(["record", "export", "--tenant", "acme", "--out", str(out), "--until", "2026-11-23T11:30:00Z"])
        == 0
    )
    assert "2 exchanges" in capsys.readouterr().out
    assert [item.time for item in read_corpus(out)] == [MOMENT, MOMENT + HOUR]


def test_export_reads_the_database_and_an_earlier_releases_files_together(
    database: Database, tmp_path: Path
) -> None:
    async def run() -> int:
        store = database.state_store()
        await store.open()
        try:
            await store.save_recorded(ENTRIES[:2])
            return await export_recorded(
                store, tmp_path / "out.jsonl", tenant="acme", earlier_files=tmp_path / "old"
            )
        finally:
            await store.close()

    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "corpus-7.jsonl").write_bytes(entry_to_line(ENTRIES[3]))
    assert asyncio.run(run()) == 3
    assert [item.time for item in read_corpus(tmp_path / "out.jsonl")] == [
        MOMENT,
        MOMENT + HOUR,
        MOMENT + 2 * HOUR,
    ]


def test_a_bad_line_in_the_database_names_its_row(database: Database, tmp_path: Path) -> None:
    async def run() -> None:
        store = database.state_store()
        await store.open()
        try:
            await store.save_recorded(ENTRIES[:1])
            database.execute("UPDATE recorded_exchange SET line = '{\"format\": 1}'")
            await export_recorded(store, tmp_path / "out.jsonl", tenant="acme")
        finally:
            await store.close()

    with pytest.raises(CorpusError, match="recorded_exchange id:1"):
        asyncio.run(run())
