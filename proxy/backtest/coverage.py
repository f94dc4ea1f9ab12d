"""How much of a backtest window the samples cover: days and business hours. Pure.

"97 % agreement" means little if every sample came from one Sunday night: the bank's
copy says on how many days of the window, and in how many of its business hours
(Monday to Friday, 08:00-18:00 Brasília time, when a bank's traffic is its usual
mix), at least one request was compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

__all__ = ["BUSINESS_HOURS", "Coverage", "coverage"]

_BRASILIA: Final = ZoneInfo("America/Sao_Paulo")
BUSINESS_HOURS: Final = range(8, 18)  # hours starting 08:00 ... 17:00
_WEEKDAYS: Final = range(0, 5)


@dataclass(frozen=True)
class Coverage:
    days_in_window: int
    days_with_samples: int
    business_hours_in_window: int
    business_hours_with_samples: int


def _business(moment: datetime) -> bool:
    return moment.weekday() in _WEEKDAYS and moment.hour in BUSINESS_HOURS


def _hour_slots(since: datetime, until: datetime) -> Iterable[datetime]:
    """Every whole Brasília hour that starts inside [since, until)."""
    local = since.astimezone(_BRASILIA)
    slot = local.replace(minute=0, second=0, microsecond=0)
    if slot < local:
        slot += timedelta(hours=1)
    end = until.astimezone(_BRASILIA)
    while slot < end:
        yield slot
        slot = (slot.astimezone(_BRASILIA) + timedelta(hours=1)).astimezone(_BRASILIA)


def coverage(moments: Iterable[datetime], since: datetime, until: datetime) -> Coverage:
    days: set[date] = set()
    hours: set[tuple[date, int]] = set()
    for moment in moments:
        local = moment.astimezone(_BRASILIA)
        days.add(local.date())
        if _business(local):
            hours.add((local.date(), local.hour))
    first, last = since.astimezone(_BRASILIA).date(), until.astimezone(_BRASILIA).date()
    # A window ending exactly at midnight does not include the day that starts then.
    if until.astimezone(_BRASILIA).time() == datetime.min.time() and last > first:
        last -= timedelta(days=1)
    in_window = sum(1 for slot in _hour_slots(since, until) if _business(slot)) if until > since else 0
    return Coverage(
        days_in_window=(last - first).days + 1 if until > since else 0,
        days_with_samples=len(days),
        business_hours_in_window=in_window,
        business_hours_with_samples=len(hours),
    )
