"""Replaying a corpus from a project's own test suite, so mapping changes meet recorded
traffic in CI::

    from proxy.replay.pytest_support import replay_corpus

    def test_recorded_traffic_still_translates() -> None:
        result = replay_corpus("tests/replay/corpus/sample.jsonl")
        assert result.passed, result.text

``replay_corpus`` runs its own event loop; inside an async test use
``areplay_corpus``. Both replay against the built-in PDT simulator in process
with the mappings under ``mappings_dir`` (default: the project's).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from proxy.config import Settings, load_settings
from proxy.replay.report import ReplayReport, render_text
from proxy.replay.session import ReplayOptions, run_replay

__all__ = ["ReplayResult", "areplay_corpus", "replay_corpus"]


@dataclass(frozen=True)
class ReplayResult:
    report: ReplayReport

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def failures(self) -> tuple[str, ...]:
        return self.report.failures

    @property
    def text(self) -> str:
        """The CLI's summary: what to print when the assertion fails."""
        return render_text(self.report)

    @property
    def rules(self) -> frozenset[str]:
        """Ids of the mapping rules behind the differences found."""
        return self.report.rules_behind_differences()


def _settings(mappings_dir: Path | str | None) -> Settings:
    settings = load_settings(environ={})
    if mappings_dir is None:
        return settings
    return settings.model_copy(update={"mappings_dir": Path(mappings_dir)})


async def areplay_corpus(
    path: Path | str,
    *,
    mappings_dir: Path | str | None = None,
    max_mismatch_rate: float = 0.0,
    min_compared: int | None = None,
    tenant: str | None = None,
) -> ReplayResult:
    options = ReplayOptions(max_mismatch_rate=max_mismatch_rate, min_compared=min_compared, tenant=tenant)
    return ReplayResult(await run_replay(Path(path), _settings(mappings_dir), options))


def replay_corpus(
    path: Path | str,
    *,
    mappings_dir: Path | str | None = None,
    max_mismatch_rate: float = 0.0,
    min_compared: int | None = None,
    tenant: str | None = None,
) -> ReplayResult:
    return asyncio.run(
        areplay_corpus(
            path,
            mappings_dir=mappings_dir,
            max_mismatch_rate=max_mismatch_rate,
            min_compared=min_compared,
            tenant=tenant,
        )
    )
