"""Stage values and the canary's sticky buckets."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from proxy.migration_stage import Stage, canary_bucket


@pytest.mark.parametrize(
    ("value", "stage"),
    [
        ("pdt", Stage("pdt")),
        ("legacy", Stage("legacy")),
        ("shadow", Stage("shadow")),
        ("pdt-fallback", Stage("pdt-fallback")),
        ("canary:0", Stage("canary", 0)),
        ("canary:35", Stage("canary", 35)),
        ({"stage": "canary", "percent": 10}, Stage("canary", 10)),
        ({"stage": "shadow"}, Stage("shadow")),
        (Stage("legacy"), Stage("legacy")),
    ],
)
def test_parse(value: Any, stage: Stage) -> None:
    assert Stage.parse(value) == stage
    assert Stage.parse(stage.label) == stage


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("canary", "canary:N"),
        ("canary:x", "canary:N"),
        ("canary:-1", "canary:N"),
        ("canary:101", "from 0 to 100"),
        ("pdt:3", "only the canary stage"),
        ("blue-green", "unknown stage"),
        ({"stage": "canary", "percent": 10.5}, "whole percent"),
        ({"stage": "canary", "percent": True}, "whole percent"),
        ({"stage": "pdt", "percent": 5}, "only the canary stage"),
        ({"stage": "pdt", "extra": 1}, "a stage is"),
        ({"percent": 5}, "a stage is"),
        ({"stage": "canary"}, "needs its percent"),
        (5, "not int"),
        (None, "not NoneType"),
    ],
)
def test_parse_refusals(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        Stage.parse(value)


@pytest.mark.parametrize(
    ("stage", "needs_legacy"),
    [("pdt", False), ("legacy", True), ("shadow", True), ("canary:5", True), ("pdt-fallback", True)],
)
def test_which_stages_need_the_legacy_backend(stage: str, needs_legacy: bool) -> None:
    assert Stage.parse(stage).needs_legacy is needs_legacy


def test_buckets_are_sticky_keyed_and_spread() -> None:
    key = b"k" * 32
    documents = [f"{n:011d}" for n in range(5000)]
    buckets = [canary_bucket(key, "acme", document) for document in documents]
    assert buckets == [canary_bucket(key, "acme", document) for document in documents]
    assert all(0 <= bucket < 100 for bucket in buckets)
    counts = Counter(bucket // 10 for bucket in buckets)
    assert min(counts.values()) > 400  # ~500 per decile: no decile starved
    # Another key or tenant reshuffles: nobody can choose a side without the key.
    assert buckets != [canary_bucket(b"o" * 32, "acme", document) for document in documents]
    assert buckets != [canary_bucket(key, "other", document) for document in documents]
