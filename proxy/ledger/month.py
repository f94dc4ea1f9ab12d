"""Billing months: ``YYYY-MM`` strings to half-open UTC intervals.

Months are UTC so that every replica, in whatever zone its host runs, files a
transaction in the same month; an invoice in another zone would be a setting, not
arithmetic scattered through the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["Month"]

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM`` or ``ValueError`` with a message fit for an API client."""
        matched = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
        if matched is None:
            raise ValueError("month must be YYYY-MM")
        year, month = int(matched[1]), int(matched[2])
        if not 1 <= month <= 12 or year < 2000 or year > 9998:
            raise ValueError("month must be YYYY-MM with a month 01-12 and a year 2000-9998")
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        utc = moment.astimezone(UTC)
        return cls(utc.year, utc.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive bound)."""
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"
