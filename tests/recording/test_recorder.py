"""proxy.recording.recorder: sampled, bounded, never in the caller's way, flushed on close."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from proxy.config import RecorderSettings
from proxy.errors import ConfigError
from proxy.recording.key import KEY_ENV, KEY_FILE, load_corpus_key
from proxy.recording.recorder import Recorder
from proxy.replay.export import export_recorded
from proxy.state.corpus import CorpusEntry, parse_line, read_corpus
from tests.db.support import Database

from .support import KEY, MOMENT, answer, exchange


class ListSink:
    """Keeps what the recorder saves, one list per batch; fails the first ``failures`` batches."""

    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[CorpusEntry]] = []
        self.failures = failures

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("database unreachable")
        self.batches.append(list(entries))

    @property
    def entries(self) -> list[CorpusEntry]:
        return [entry for batch in self.batches for entry in batch]


def _recorder(sink: Any, draws: Iterator[float] | None = None, **settings: Any) -> Recorder:
    options: dict[str, Any] = {"enabled": True, "sample_rate": 1.0, **settings}
    sample = (lambda: next(draws)) if draws is not None else (lambda: 0.0)
    return Recorder(RecorderSettings(**options), sink=sink, key=KEY, sample=sample, now=lambda: MOMENT)


async def test_offered_legacy_answers_are_saved_masked_and_flushed_on_close() -> None:
    sink = ListSink()
    recorder = _recorder(sink)
    for _ in range(3):
        recorder.offer(exchange(), answer())
    await recorder.aclose()
    entries = sink.entries
    assert len(entries) == 3
    assert {entry.time for entry in entries} == {MOMENT}
    assert (
        entries[0].response_body.data["Document"] == entries[0].request_body.data["Document"] != "19678335832"
    )
    assert recorder.stats.written == 3


async def test_every_recorder_saves_into_the_one_database_export_reads(
    database: Database, tmp_path: Path
) -> None:
    """Two recorders (two workers or replicas) on one database: export sees both, masked,
    in time order, and only the tenant asked for."""
    store = database.state_store()
    await store.open()
    try:
        for offset in (timedelta(0), timedelta(seconds=1)):
            recorder = Recorder(
                RecorderSettings(enabled=True, sample_rate=1.0),
                sink=store,
                key=KEY,
                now=lambda offset=offset: MOMENT + offset,  # type: ignore[misc]
            )
            recorder.offer(exchange(), answer())
            recorder.offer(exchange(), answer())
            await recorder.aclose()
            assert recorder.stats.written == 2
        out = tmp_path / "acme.jsonl"
        assert await export_recorded(store, out, tenant="acme") == 4
        assert await export_recorded(store, tmp_path / "none.jsonl", tenant="other") == 0
        since = MOMENT + timedelta(milliseconds=500)
        assert await export_recorded(store, tmp_path / "late.jsonl", tenant="acme", since=since) == 2
    finally:
        await store.close()
    entries = list(read_corpus(out))
    assert [entry.time for entry in entries] == [MOMENT] * 2 + [MOMENT + timedelta(seconds=1)] * 2
    raw = out.read_text()
    assert "19678335832" not in raw
    assert "cliente@example.org" not in raw
    assert "988056887" not in raw
    stored = database.execute("SELECT tenant, product, operation, line FROM recorded_exchange")
    assert len(stored) == 4
    assert {row[:3] for row in stored} == {("acme", "mobile-trust", "mobiletrust.transaction.create")}
    assert parse_line(str(stored[0][3]).encode(), source="db", number=1).tenant == "acme"


async def test_recorded_exchanges_are_pruned_by_time(database: Database) -> None:
    store = database.state_store()
    await store.open()
    try:
        recorder = _recorder(store)
        recorder.offer(exchange(), answer())
        await recorder.aclose()
        assert await store.prune_recorded(MOMENT) == 0
        assert await store.prune_recorded(MOMENT + timedelta(seconds=1)) == 1
        assert await store.recorded_lines("acme") == []
    finally:
        await store.close()


SAMPLING = [
    # (sample rate, draws, written)
    (1.0, [0.0, 0.5, 0.99], 3),
    (0.5, [0.0, 0.5, 0.99], 1),
    (0.0, [0.0, 0.5, 0.99], 0),
]


@pytest.mark.parametrize(("rate", "draws", "written"), SAMPLING)
async def test_the_sample_rate_decides_what_is_written(rate: float, draws: list[float], written: int) -> None:
    recorder = _recorder(ListSink(), iter(draws), sample_rate=rate)
    for _ in draws:
        recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert recorder.stats.written == written
    assert recorder.stats.not_sampled == len(draws) - written


async def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    recorder = _recorder(ListSink(), queue_size=2)
    for _ in range(5):  # no await in between: the writer has not run yet
        recorder.offer(exchange(), answer())
    assert recorder.stats.dropped == 3
    await recorder.aclose()
    assert recorder.stats.written == 2


async def test_pdt_answers_and_a_disabled_recorder_write_nothing() -> None:
    sink = ListSink()
    recorder = _recorder(sink)
    recorder.offer(exchange(), answer(side="pdt"))
    await recorder.aclose()
    assert recorder.stats.not_recordable == 1
    disabled = _recorder(sink, enabled=False)
    disabled.offer(exchange(), answer())
    await disabled.aclose()
    assert disabled.stats.offered == 0
    assert sink.batches == []


async def test_after_close_nothing_more_is_taken() -> None:
    recorder = _recorder(ListSink())
    await recorder.aclose()
    recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert recorder.stats.offered == 0


async def test_a_save_failure_is_counted_and_the_recorder_keeps_going() -> None:
    sink = ListSink(failures=1)
    recorder = _recorder(sink)
    recorder.offer(exchange(), answer())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert (recorder.stats.failed, recorder.stats.written) == (1, 1)
    assert len(sink.entries) == 1


async def test_from_settings_keeps_the_key_file_under_the_data_dir_and_writes_no_file(
    tmp_path: Path,
) -> None:
    sink = ListSink()
    recorder = Recorder.from_settings(
        RecorderSettings(enabled=True, sample_rate=1.0), tmp_path, sink, environ={}
    )
    assert recorder.directory == tmp_path / "corpus"
    assert (tmp_path / "corpus" / KEY_FILE).exists()
    recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert len(sink.entries) == 1
    assert sorted(path.name for path in (tmp_path / "corpus").iterdir()) == [KEY_FILE]


# --- key ---------------------------------------------------------------------------------------


def test_the_key_comes_from_settings_then_environment_then_a_file_made_once(tmp_path: Path) -> None:
    assert load_corpus_key("s" * 16, tmp_path, environ={KEY_ENV: "e" * 16}) == b"s" * 16
    assert load_corpus_key(None, tmp_path, environ={KEY_ENV: "e" * 16}) == b"e" * 16
    made = load_corpus_key(None, tmp_path, environ={})
    assert len(made) == 64
    assert load_corpus_key(None, tmp_path, environ={}) == made
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("configured", "environ", "refused"),
    [
        pytest.param(None, {}, True, id="unset on a shared database: refused"),
        pytest.param(None, {KEY_ENV: "e" * 16}, False, id="environment"),
        pytest.param("s" * 16, {}, False, id="settings"),
    ],
)
def test_on_a_shared_database_the_key_must_be_given(
    tmp_path: Path, configured: str | None, environ: dict[str, str], refused: bool
) -> None:
    if refused:
        with pytest.raises(ConfigError, match=KEY_ENV):
            load_corpus_key(configured, tmp_path, environ=environ, shared_database=True)
        assert not (tmp_path / KEY_FILE).exists()
    else:
        assert len(load_corpus_key(configured, tmp_path, environ=environ, shared_database=True)) == 16


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        load_corpus_key("short", tmp_path, environ={})
