"""The SQLite ledger store's own choices: where a batch commits, and what waits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from proxy.ledger.month import Month
from proxy.ledger.sqlite import SqliteStore
from tests.db.support import write_behind_another_writer
from tests.ledger.support import make_record

FEBRUARY = Month(2026, 2)


@pytest.mark.parametrize(
    ("synchronous", "inline_commits"),
    [("NORMAL", 1), ("FULL", 0)],  # FULL fsyncs per commit: never on the loop
)
async def test_where_a_batch_commits_follows_the_durability_setting(
    tmp_path: Path, synchronous: Literal["NORMAL", "FULL"], inline_commits: int
) -> None:
    store = SqliteStore(tmp_path / "ledger.sqlite3", synchronous=synchronous)
    await store.open()
    try:
        await store.append([make_record(request_id="a"), make_record(request_id="b")])
        assert [r.request_id for r in await store.records(FEBRUARY)] == ["a", "b"]
        assert store.inline_stats.commits == inline_commits
    finally:
        await store.close()


async def test_a_batch_waits_on_the_thread_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    store = SqliteStore(path)
    await store.open()
    try:
        await write_behind_another_writer(path, store.append([make_record(request_id="late")]))
        assert store.inline_stats.busy == 1
        assert [r.request_id for r in await store.records(FEBRUARY)] == ["late"]
        assert store.inline_stats.commits == 0
    finally:
        await store.close()
