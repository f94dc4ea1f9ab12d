"""Shadow retention: the cut-off is now minus the kept days; failures never stop the task."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from proxy.state.corpus import CorpusEntry
from proxy.state.records import ConfigReload, ShadowResult, StageChange, StageOverride
from proxy.state.retention import ShadowRetention

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class PruneOnly:
    """A state store that records prune calls (and fails the first ``failures`` of them)."""

    def __init__(self, failures: int = 0) -> None:
        self.cutoffs: list[datetime] = []
        self.recorded_cutoffs: list[datetime] = []
        self.failures = failures

    async def prune_shadow(self, before: datetime) -> int:
        self.cutoffs.append(before)
        if self.failures:
            self.failures -= 1
            raise OSError("database unreachable")
        return 3

    async def prune_recorded(self, before: datetime) -> int:
        self.recorded_cutoffs.append(before)
        return 2

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None: ...
    async def recorded_lines(
        self, tenant: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, str]]:
        return []

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def stage_overrides(self) -> list[StageOverride]:
        return []

    async def set_stage(self, change: StageChange) -> None: ...
    async def stage_audit(self, *, tenant: str | None = None, limit: int = 1000) -> list[StageChange]:
        return []

    async def save_shadow(self, results: Sequence[ShadowResult]) -> None: ...
    async def record_reload(self, reload: ConfigReload) -> int:
        return 0

    async def config_generation(self) -> int:
        return 0

    async def reload_audit(self, *, limit: int = 20) -> list[ConfigReload]:
        return []

    async def shadow_results(
        self, tenant: str, *, since: datetime, until: datetime, product: str | None = None
    ) -> list[ShadowResult]:
        return []


@pytest.mark.parametrize("days", [1, 90])
async def test_prune_once_cuts_at_now_minus_the_kept_days(days: int) -> None:
    store = PruneOnly()
    retention = ShadowRetention(store, keep_days=days, now=lambda: NOW)
    assert await retention.prune_once() == 3
    assert store.cutoffs == [NOW - timedelta(days=days)]
    assert store.recorded_cutoffs == []  # no recorder, no corpus to prune


@pytest.mark.parametrize(("days", "recorded_days"), [(90, 30), (7, 14)])
async def test_the_recorded_corpus_has_its_own_period(days: int, recorded_days: int) -> None:
    store = PruneOnly()
    retention = ShadowRetention(store, keep_days=days, recorded_keep_days=recorded_days, now=lambda: NOW)
    assert await retention.prune_once() == 3 + 2
    assert store.cutoffs == [NOW - timedelta(days=days)]
    assert store.recorded_cutoffs == [NOW - timedelta(days=recorded_days)]


async def test_the_task_survives_a_failing_database_and_stops_on_close() -> None:
    store = PruneOnly(failures=1)
    retention = ShadowRetention(store, keep_days=90, every_s=0.01, now=lambda: NOW)
    retention.start()
    for _ in range(200):
        if len(store.cutoffs) >= 3:
            break
        await asyncio.sleep(0.01)
    await retention.aclose()
    assert len(store.cutoffs) >= 3  # the first failed, later ones ran
    count = len(store.cutoffs)
    await asyncio.sleep(0.05)
    assert len(store.cutoffs) == count
