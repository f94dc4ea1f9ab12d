"""The fleet run's verdicts and its table: pure functions, no I/O.

Each check of ``load/fleet.py`` ends as one ``Row``: what was checked, the figure
measured, and whether the bar held. The bars themselves live here, beside the
arithmetic they need (a token bucket's allowance, a ledger reconciliation, the
replicas a peak needs), so the suite tests them without starting a fleet.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LedgerDiff",
    "Row",
    "all_held",
    "ledger_diff",
    "render_table",
    "replicas_needed",
    "token_bucket_allowance",
    "within",
]

HELD = "held"
MISSED = "MISSED"


@dataclass(frozen=True)
class Row:
    key: str  # stable, for machines (the suite, --json); ``check`` is for people
    check: str
    figure: str
    held: bool

    @property
    def verdict(self) -> str:
        return HELD if self.held else MISSED

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "check": self.check, "figure": self.figure, "held": self.held}


def all_held(rows: Iterable[Row]) -> bool:
    rows = list(rows)
    return bool(rows) and all(row.held for row in rows)


def render_table(rows: Iterable[Row]) -> str:
    """One line per check, columns padded to the widest cell (figures can be long)."""
    rows = list(rows)
    header = ("check", "measured", "verdict")
    cells = [header, *((row.check, row.figure, row.verdict) for row in rows)]
    widths = [max(len(line[column]) for line in cells) for column in range(2)]
    lines = []
    for index, (check, figure, verdict) in enumerate(cells):
        lines.append(f"{check:<{widths[0]}}  {figure:<{widths[1]}}  {verdict}")
        if index == 0:
            lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * len(MISSED)}")
    return "\n".join(lines)


def token_bucket_allowance(rate_per_s: float, burst: int, seconds: float) -> float:
    """Requests a full token bucket lets through in ``seconds`` of traffic above its rate.

    The bucket starts full (``burst``) and refills at ``rate_per_s``; a client sending
    faster than the rate gets the burst at once and the refill after it. The fleet's
    limit is right when three replicas together admit this, not three times it."""
    if rate_per_s <= 0 or burst < 1 or seconds < 0:
        raise ValueError("a bucket needs a positive rate and burst, and a non-negative duration")
    return burst + rate_per_s * seconds


def within(measured: float, expected: float, tolerance: float) -> bool:
    """``measured`` within ``tolerance`` (a fraction) of ``expected``, both ways."""
    if expected <= 0:
        return measured == expected
    return abs(measured - expected) <= tolerance * expected


@dataclass(frozen=True)
class LedgerDiff:
    """The ledger set against what the clients were answered."""

    answered: int
    recorded: int
    missing: int  # answered, but no record: the ledger lost a transaction
    extra: int  # recorded, never answered to the client (a crash between commit and answer)
    duplicated: int  # recorded more than once: billed twice

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.extra == 0 and self.duplicated == 0

    @property
    def nothing_lost(self) -> bool:
        """What a crash may leave: records of answers never sent, never a lost one."""
        return self.missing == 0 and self.duplicated == 0


def ledger_diff(answered: Iterable[str], recorded: Mapping[str, int]) -> LedgerDiff:
    """Compare the request ids the clients got an answer for with the ledger's
    records of the same run (request id -> how many records carry it)."""
    answered_ids = Counter(answered)
    if any(count > 1 for count in answered_ids.values()):
        raise ValueError("a request id was sent twice: the reconciliation needs unique ids")
    missing = sum(1 for request_id in answered_ids if recorded.get(request_id, 0) == 0)
    extra = sum(1 for request_id in recorded if request_id not in answered_ids)
    duplicated = sum(1 for count in recorded.values() if count > 1)
    return LedgerDiff(len(answered_ids), sum(recorded.values()), missing, extra, duplicated)


def replicas_needed(
    peak_per_s: float, per_core_per_s: float, *, cores_per_replica: float, headroom: float
) -> int:
    """Replicas for a peak: the peak over what one replica serves at ``headroom``
    (a fraction of saturation, so a replica lost or restarting leaves the rest below
    it), plus one for that lost replica, and never fewer than two."""
    if per_core_per_s <= 0 or cores_per_replica <= 0 or not 0 < headroom <= 1:
        raise ValueError("per-core rate, cores and headroom must be positive (headroom at most 1)")
    one_replica = per_core_per_s * cores_per_replica * headroom
    return max(2, math.ceil(peak_per_s / one_replica) + 1)
