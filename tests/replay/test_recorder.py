"""proxy.replay.recorder: sampled, bounded, never in the caller's way, flushed on close."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from proxy.errors import ConfigError
from proxy.replay.corpus import read_corpus
from proxy.replay.files import CorpusFiles, corpus_files
from proxy.replay.key import KEY_ENV, KEY_FILE, load_corpus_key
from proxy.replay.recorder import Recorder
from proxy.replay.settings import RecorderSettings

from .support import KEY, MOMENT, answer, exchange


def _recorder(tmp_path: Path, draws: Iterator[float] | None = None, **settings: Any) -> Recorder:
    options: dict[str, Any] = {"enabled": True, "sample_rate": 1.0, **settings}
    sample = (lambda: next(draws)) if draws is not None else (lambda: 0.0)
    return Recorder(
        RecorderSettings(**options), directory=tmp_path / "corpus", key=KEY, stem="w", sample=sample,
        now=lambda: MOMENT,
    )  # fmt: skip


async def test_offered_legacy_answers_are_written_masked_and_flushed_on_close(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path)
    for _ in range(3):
        recorder.offer(exchange(), answer())
    await recorder.aclose()
    entries = list(read_corpus(tmp_path / "corpus" / "w.jsonl"))
    assert len(entries) == 3
    assert {entry.time for entry in entries} == {MOMENT}
    assert (
        entries[0].response_body.data["Document"] == entries[0].request_body.data["Document"] != "19678335832"
    )
    assert recorder.stats.written == 3


SAMPLING = [
    # (sample rate, draws, written)
    (1.0, [0.0, 0.5, 0.99], 3),
    (0.5, [0.0, 0.5, 0.99], 1),
    (0.0, [0.0, 0.5, 0.99], 0),
]


@pytest.mark.parametrize(("rate", "draws", "written"), SAMPLING)
async def test_the_sample_rate_decides_what_is_written(
    tmp_path: Path, rate: float, draws: list[float], written: int
) -> None:
    recorder = _recorder(tmp_path, iter(draws), sample_rate=rate)
    for _ in draws:
        recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert recorder.stats.written == written
    assert recorder.stats.not_sampled == len(draws) - written


async def test_a_full_queue_drops_and_counts_without_waiting(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, queue_size=2)
    for _ in range(5):  # no await in between: the writer has not run yet
        recorder.offer(exchange(), answer())
    assert recorder.stats.dropped == 3
    await recorder.aclose()
    assert recorder.stats.written == 2


async def test_pdt_answers_and_a_disabled_recorder_write_nothing(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path)
    recorder.offer(exchange(), answer(side="pdt"))
    await recorder.aclose()
    assert recorder.stats.not_recordable == 1
    disabled = _recorder(tmp_path, enabled=False)
    disabled.offer(exchange(), answer())
    await disabled.aclose()
    assert disabled.stats.offered == 0
    assert corpus_files(tmp_path / "corpus") == []


async def test_after_close_nothing_more_is_taken(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path)
    await recorder.aclose()
    recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert recorder.stats.offered == 0


async def test_a_write_failure_is_counted_and_the_recorder_keeps_going(tmp_path: Path) -> None:
    (tmp_path / "corpus").write_text("a file where the directory should be")
    recorder = _recorder(tmp_path)
    recorder.offer(exchange(), answer())
    await asyncio.sleep(0)
    await recorder.aclose()
    assert (recorder.stats.failed, recorder.stats.written) == (1, 0)


async def test_from_settings_uses_the_data_dir_and_a_key_file(tmp_path: Path) -> None:
    recorder = Recorder.from_settings(RecorderSettings(enabled=True, sample_rate=1.0), tmp_path, environ={})
    assert recorder.directory == tmp_path / "corpus"
    assert (tmp_path / "corpus" / KEY_FILE).exists()
    recorder.offer(exchange(), answer())
    await recorder.aclose()
    assert next(path.name for path in corpus_files(tmp_path / "corpus")).startswith("corpus-")


# --- files -------------------------------------------------------------------------------------


def test_files_rotate_at_the_size_cap_and_keep_max_files(tmp_path: Path) -> None:
    stamps = iter(range(100))
    files = CorpusFiles(
        tmp_path, max_bytes=100, max_files=2, stem="w",
        clock=lambda: MOMENT.replace(microsecond=next(stamps)),
    )  # fmt: skip
    line = orjson.dumps({"x": "y" * 60}) + b"\n"  # 69 bytes: two do not fit in 100
    for _ in range(5):
        files.append([line])
    files.close()
    names = sorted(path.name for path in corpus_files(tmp_path))
    assert "w.jsonl" in names
    assert len(names) == 3  # the live file and the 2 newest rotated ones
    assert files.rotations == 4
    assert all(path.stat().st_size <= 100 for path in corpus_files(tmp_path))


def test_pruning_leaves_other_writers_live_files_alone(tmp_path: Path) -> None:
    (tmp_path / "other.jsonl").write_bytes(b"")
    files = CorpusFiles(tmp_path, max_bytes=10, max_files=0, stem="w")
    files.append([b"0123456789\n"])
    files.append([b"0123456789\n"])
    files.close()
    assert sorted(path.name for path in corpus_files(tmp_path)) == ["other.jsonl", "w.jsonl"]


# --- key ---------------------------------------------------------------------------------------


def test_the_key_comes_from_settings_then_environment_then_a_file_made_once(tmp_path: Path) -> None:
    assert load_corpus_key("s" * 16, tmp_path, environ={KEY_ENV: "e" * 16}) == b"s" * 16
    assert load_corpus_key(None, tmp_path, environ={KEY_ENV: "e" * 16}) == b"e" * 16
    made = load_corpus_key(None, tmp_path, environ={})
    assert len(made) == 64
    assert load_corpus_key(None, tmp_path, environ={}) == made
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_a_short_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        load_corpus_key("short", tmp_path, environ={})
