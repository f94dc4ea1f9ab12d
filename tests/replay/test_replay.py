"""Replaying the sample corpus: it passes on the shipped mappings, and a changed mapping
rule makes the same replay fail naming that rule. This is the CI entry point's own test."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from proxy.cli import main
from proxy.config import load_settings
from proxy.errors import ConfigError
from proxy.replay.pytest_support import areplay_corpus
from proxy.replay.session import ReplayOptions, run_replay
from proxy.state.corpus import entry_to_line, read_corpus
from tests.recording.support import MAPPINGS, SAMPLE


async def test_the_sample_corpus_replays_to_a_pass() -> None:
    result = await areplay_corpus(SAMPLE)
    assert result.passed, result.text
    report = result.report
    assert report.mismatched == report.failed == report.thin == 0
    assert report.replayed >= 36
    assert {s.operation for s in report.operations if s.replayed} >= {
        "datatrust.transaction.create",
        "datatrust.transaction.get",
        "datatrust.token.send",
        "ffr.score",
        "mobiletrust.transaction.create",
        "mobiletrust.transaction.get",
    }
    # The one validate exchange was recorded without its code, and is skipped for it.
    assert report.skipped_reasons == {"recorded without the secret or one-time code it carried": 1}


# (file under mappings/, text to change, its replacement, the rule the replay must name)
ALTERED_RULES = [
    ("ffr/operations/score.yaml", "transform: [{clamp: [0, 100]}, {round: 0}]",
     "transform: [{clamp: [0, 10]}, {round: 0}]", "ffr.resp.score"),
    ("datatrust-v1/tables/rating-values.csv", "3,High", "3,Medium", "dt.resp.rating.value"),
    ("mobile-trust/tables/rating-values.csv", "3,Strong", "3,Weak", "mt.resp.rating.value"),
]  # fmt: skip


def _altered_mappings(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, copy)
    target = copy / file
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{file}: {old!r} must occur once"
    target.write_text(text.replace(old, new), encoding="utf-8")
    return copy


@pytest.mark.parametrize(("file", "old", "new", "rule"), ALTERED_RULES)
async def test_an_altered_mapping_rule_fails_the_replay_and_is_named(
    tmp_path: Path, file: str, old: str, new: str, rule: str
) -> None:
    result = await areplay_corpus(SAMPLE, mappings_dir=_altered_mappings(tmp_path, file, old, new))
    assert not result.passed
    assert rule in result.rules
    assert rule in result.text
    assert any("mismatch rate" in failure for failure in result.failures)


async def test_min_compared_raises_the_declared_floor_into_thin_comparisons() -> None:
    result = await areplay_corpus(SAMPLE, min_compared=1000)
    assert result.report.thin == result.report.replayed
    assert "thin" in result.failures[-1]


async def test_a_tenant_filter_replays_only_its_exchanges() -> None:
    result = await areplay_corpus(SAMPLE, tenant="demo-ffr")
    assert result.passed
    assert {outcome.operation for outcome in result.report.outcomes} == {"ffr.score"}


async def test_a_request_by_an_id_no_replayed_answer_created_is_skipped(tmp_path: Path) -> None:
    reads = [entry for entry in read_corpus(SAMPLE) if entry.operation.endswith(".get")][:2]
    corpus = tmp_path / "reads.jsonl"
    corpus.write_bytes(b"".join(entry_to_line(entry) for entry in reads))
    report = await run_replay(corpus, load_settings(environ={}))
    assert report.skipped == 2
    assert report.failures == ("no exchange was replayed",)


TARGETS = [
    (ReplayOptions(target="ftp://x"), "simulator"),
    (ReplayOptions(target="http://proxy.test"), "username and password"),
]


@pytest.mark.parametrize(("options", "message"), TARGETS)
async def test_an_unusable_target_is_refused(options: ReplayOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        await run_replay(SAMPLE, load_settings(environ={}), options)


def test_the_cli_exits_0_on_the_sample_and_writes_both_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_file, html_file = tmp_path / "r.json", tmp_path / "r.html"
    status = main(["replay", str(SAMPLE), "--json", str(json_file), "--html", str(html_file)])
    out, err = capsys.readouterr()
    assert status == 0, out
    assert "PASS" in out
    assert "(100%)" in err  # progress on stderr
    assert orjson.loads(json_file.read_bytes())["passed"] is True
    assert "PASS" in html_file.read_text(encoding="utf-8")


def test_the_cli_exits_non_zero_naming_the_altered_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file, old, new, rule = ALTERED_RULES[0]
    mappings = _altered_mappings(tmp_path, file, old, new)
    status = main(["replay", str(SAMPLE), "--mappings", str(mappings), "--quiet"])
    out, _ = capsys.readouterr()
    assert status == 3
    assert rule in out
    assert "FAIL" in out
    # A threshold above the mismatch rate lets the same replay pass.
    assert (
        main(["replay", str(SAMPLE), "--mappings", str(mappings), "--quiet", "--max-mismatch-rate", "1"]) == 0
    )


def test_a_broken_corpus_line_exits_1_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "broken.jsonl"
    corpus.write_text('{"format": 1}\n', encoding="utf-8")
    assert main(["replay", str(corpus), "--quiet"]) == 1
    assert "broken.jsonl:1" in capsys.readouterr().err
