"""The reload audit and the configuration generation replicas poll, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proxy.state.records import ConfigReload
from proxy.state.store import StateStore

_AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _reload(outcome: str, minutes: int = 0, version: str = "v1") -> ConfigReload:
    detail = "" if outcome == "ok" else "mappings/compare.yaml: not valid YAML"
    return ConfigReload(_AT + timedelta(minutes=minutes), "ana", "api", outcome, version, detail)


async def test_a_fresh_store_is_at_generation_zero_with_no_reloads(store: StateStore) -> None:
    assert await store.config_generation() == 0
    assert await store.reload_audit() == []


@pytest.mark.parametrize(
    ("outcomes", "generation"),
    [
        (["ok"], 1),
        (["ok", "ok"], 2),
        # A refused reload is audited but moves no replica.
        (["ok", "refused"], 1),
        (["refused"], 0),
        (["refused", "ok", "refused"], 2),
    ],
)
async def test_the_generation_is_the_newest_ok_reload(
    store: StateStore, outcomes: list[str], generation: int
) -> None:
    numbers = [await store.record_reload(_reload(outcome, index)) for index, outcome in enumerate(outcomes)]
    assert numbers == sorted(set(numbers))
    assert await store.config_generation() == generation


async def test_the_audit_is_newest_first_with_its_generations(store: StateStore) -> None:
    first = await store.record_reload(_reload("ok", 0, "aaa"))
    second = await store.record_reload(_reload("refused", 1, ""))
    audit = await store.reload_audit(limit=5)
    assert [(entry.generation, entry.outcome, entry.version) for entry in audit] == [
        (second, "refused", ""),
        (first, "ok", "aaa"),
    ]
    assert audit[0].detail.startswith("mappings/compare.yaml")
    assert audit[1].at == _AT
    assert audit[1].actor == "ana"
    assert len(await store.reload_audit(limit=1)) == 1


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        _reload("maybe")
