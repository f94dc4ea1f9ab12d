"""Billing months: what the CLI and the admin API accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from proxy.ledger.month import Month


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-02", datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (" 2027-01 ", datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)),
    ],
)
def test_a_month_is_a_half_open_utc_interval(text: str, start: datetime, end: datetime) -> None:
    month = Month.parse(text)
    assert (month.start, month.end) == (start, end)
    assert str(month) == text.strip()


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-00", "2026-1", "26-02", "2026-02-01", "1999-12", "fev/2026"]
)
def test_a_malformed_month_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="month must be YYYY-MM"):
        Month.parse(text)


def test_the_month_of_a_moment_is_its_utc_month() -> None:
    # 22:30 on 31 January in São Paulo is already February in UTC.
    moment = datetime(2026, 1, 31, 22, 30, tzinfo=timezone(timedelta(hours=-3)))
    assert Month.of(moment) == Month(2026, 2)
