"""Stage changes and overrides: instants in UTC, None (not '') for the tenant default."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proxy.state.records import StageChange, StageOverride
from tests.state.support import AT, change

SAO_PAULO = timezone(timedelta(hours=-3))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (AT, AT),
        (datetime(2026, 11, 20, 9, 0, tzinfo=SAO_PAULO), AT),
        (datetime(2026, 11, 20, 12, 0, 0, 1, tzinfo=UTC), datetime(2026, 11, 20, 12, 0, 0, 1, tzinfo=UTC)),
    ],
    ids=["utc", "offset", "micros"],
)
def test_times_are_kept_in_utc(at: datetime, expected: datetime) -> None:
    made = change(at=at)
    assert made.at == expected
    assert made.at.tzinfo is UTC
    assert StageOverride("acme", None, "pdt", at, "ops").at.tzinfo is UTC


@pytest.mark.parametrize(
    "build",
    [
        lambda: change(at=datetime(2026, 11, 20, 12, 0)),
        lambda: StageOverride("acme", None, "pdt", datetime(2026, 11, 20), "ops"),
        lambda: change(product=""),
        lambda: StageOverride("acme", "", "pdt", AT, "ops"),
    ],
    ids=["naive-change", "naive-override", "empty-product-change", "empty-product-override"],
)
def test_naive_times_and_an_empty_product_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match=r"timezone-aware|not ''"):
        build()


@pytest.mark.parametrize("product", [None, "ffr"])
def test_a_change_names_the_override_it_leaves(product: str | None) -> None:
    made: StageChange = change(product=product, to_stage="canary:10", actor="maria")
    assert made.override == StageOverride("acme", product, "canary:10", AT, "maria")
