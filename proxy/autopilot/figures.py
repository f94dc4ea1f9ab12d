"""What a step measured, from shared rows (the ledger, the shadow results). Pure.

Decisions are fleet-wide, so their figures come from what every replica wrote to
the database, never from one process's counters:

- a live step (canary, pdt-fallback, pdt): the ledger rows of the tenant in that
  stage since the step began: PDT error rate, fallback rate by cause, added p99
  latency (PDT-answered against legacy-answered requests of the same step, or the
  legacy p99 measured in shadow once no legacy side answers);
- the shadow agreement where the step's requests were also sampled in shadow.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from proxy.state.records import ShadowResult

__all__ = ["LedgerRow", "StepFigures", "percentile", "step_figures"]


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """The columns of one ledger row a step's figures need."""

    side: str
    status: int
    fallback: str | None
    latency_ms: float


@dataclass(frozen=True)
class StepFigures:
    requests: int
    pdt_attempts: int
    pdt_errors: int
    pdt_error_rate: float | None
    fallbacks: int
    fallback_rate: float | None
    fallback_causes: dict[str, int]
    pdt_p99_ms: float | None
    legacy_p99_ms: float | None
    # Where legacy_p99_ms came from: "step" (this step's legacy answers), "shadow"
    # (the baseline measured before the walk left shadow), or None.
    legacy_reference: str | None
    added_p99_ms: float | None
    shadow_samples: int
    match_rate: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "pdt_attempts": self.pdt_attempts,
            "pdt_errors": self.pdt_errors,
            "pdt_error_rate": self.pdt_error_rate,
            "fallbacks": self.fallbacks,
            "fallback_rate": self.fallback_rate,
            "fallback_causes": dict(sorted(self.fallback_causes.items())),
            "pdt_p99_ms": self.pdt_p99_ms,
            "legacy_p99_ms": self.legacy_p99_ms,
            "legacy_reference": self.legacy_reference,
            "added_p99_ms": self.added_p99_ms,
            "shadow_samples": self.shadow_samples,
            "match_rate": self.match_rate,
            **self.extra,
        }


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (as the backtest's); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(fraction * len(ordered))) - 1], 3)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def step_figures(
    rows: Iterable[LedgerRow],
    shadow: Iterable[ShadowResult] = (),
    *,
    baseline_p99_ms: float | None = None,
    min_reference: int = 50,
) -> StepFigures:
    """The figures of one live step from its ledger rows and shadow samples."""
    requests = pdt_attempts = pdt_errors = 0
    causes: Counter[str] = Counter()
    pdt_ms: list[float] = []
    legacy_ms: list[float] = []
    for row in rows:
        requests += 1
        if row.fallback is not None:
            # PDT was asked and failed; the legacy backend answered.
            pdt_attempts += 1
            pdt_errors += 1
            causes[row.fallback] += 1
        elif row.side == "pdt":
            pdt_attempts += 1
            pdt_errors += row.status >= 500
            pdt_ms.append(row.latency_ms)
        elif row.side == "legacy":
            legacy_ms.append(row.latency_ms)
    fallbacks = sum(causes.values())
    legacy_p99, reference = None, None
    if len(legacy_ms) >= min_reference:
        legacy_p99, reference = percentile(legacy_ms, 0.99), "step"
    elif baseline_p99_ms is not None:
        legacy_p99, reference = baseline_p99_ms, "shadow"
    pdt_p99 = percentile(pdt_ms, 0.99)
    added = None if pdt_p99 is None or legacy_p99 is None else round(pdt_p99 - legacy_p99, 3)
    samples = matched = 0
    for result in shadow:
        samples += 1
        matched += result.comparison.matched
    return StepFigures(
        requests=requests,
        pdt_attempts=pdt_attempts,
        pdt_errors=pdt_errors,
        pdt_error_rate=_share(pdt_errors, pdt_attempts),
        fallbacks=fallbacks,
        fallback_rate=_share(fallbacks, requests),
        fallback_causes=dict(causes),
        pdt_p99_ms=pdt_p99,
        legacy_p99_ms=legacy_p99,
        legacy_reference=reference,
        added_p99_ms=added,
        shadow_samples=samples,
        match_rate=_share(matched, samples),
    )
