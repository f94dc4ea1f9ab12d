"""proxy.backtest.coverage: days and business hours (Brasília) a backtest's samples cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from proxy.backtest.coverage import Coverage, coverage

# Monday 2026-11-16 00:00 in Brasília (UTC-3).
MONDAY = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


@pytest.mark.parametrize(
    ("moments", "since", "until", "expected"),
    [
        # One whole week: 7 days, 5 x 10 business hours.
        ([], MONDAY, MONDAY + timedelta(days=7), Coverage(7, 0, 50, 0)),
        # Monday 09:30 and 09:50 share an hour; Saturday 10:00 is not a business hour.
        ([at(0, 9.5), at(0, 9.83), at(5, 10)], MONDAY, MONDAY + timedelta(days=7), Coverage(7, 2, 50, 1)),
        # 07:59 and 18:00 fall outside 08:00-18:00.
        ([at(1, 7.98), at(1, 18)], MONDAY, MONDAY + timedelta(days=7), Coverage(7, 1, 50, 0)),
        # A window starting mid-hour counts whole hours that start inside it.
        ([], at(0, 16.5), at(1, 9), Coverage(2, 0, 2, 0)),
        ([], MONDAY, MONDAY, Coverage(0, 0, 0, 0)),
    ],
)
def test_coverage(moments: list[datetime], since: datetime, until: datetime, expected: Coverage) -> None:
    assert coverage(moments, since, until) == expected
