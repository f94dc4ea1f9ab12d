"""Aggregate shadow results into a backtest: agreement figures and a readiness verdict. Pure."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from proxy.backtest.coverage import Coverage, coverage
from proxy.comparison.rules import CompareRules, Readiness
from proxy.state.records import ShadowResult

__all__ = ["Backtest", "Check", "LatencySummary", "build_backtest"]

# Score deltas (PDT minus legacy) are binned 5 points wide from -50 to +50 for the histogram.
_DELTA_BIN = 5
_DELTA_LIMIT = 50


@dataclass(frozen=True)
class LatencySummary:
    samples: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    threshold: float
    passed: bool
    comparison: str  # ">=" or "<="


@dataclass(frozen=True)
class FieldDifferences:
    field: str
    rule: str | None
    kind: str
    count: int
    # The first difference of this kind, as stored (shadow results are masked before
    # they are stored; the HTML masks again before showing it to a bank).
    example_legacy: Any = None
    example_pdt: Any = None


@dataclass(frozen=True)
class FieldAgreement:
    """How often one legacy field agreed, over every comparison that covered it."""

    field: str
    rule: str | None
    compared: int
    differed: int
    agreement: float


@dataclass(frozen=True)
class Backtest:
    tenant: str
    window_from: datetime
    window_to: datetime
    samples: int
    by_operation: dict[str, int]
    matched: int
    thin: int
    match_rate: float | None
    compared_fields: int
    status_agreement: float | None
    score_pairs: list[tuple[float, float]]
    score_agreement: float | None
    score_mean_abs_delta: float | None
    score_delta_histogram: dict[str, int]
    rating_matrix: dict[str, dict[str, int]]
    rating_agreement: float | None
    insight_overlap: float | None
    legacy_latency: LatencySummary
    pdt_latency: LatencySummary
    pdt_error_rate: float | None
    # Time coverage: hours from the first sample to the last, distinct UTC days with samples.
    hours: float
    distinct_days: int
    top_differences: list[FieldDifferences]
    field_agreement: list[FieldAgreement]
    checks: list[Check]
    ready: bool
    notes: list[str] = field(default_factory=list)
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0, 0, 0))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["window_from"] = self.window_from.isoformat()
        data["window_to"] = self.window_to.isoformat()
        data["score_pairs"] = [list(pair) for pair in self.score_pairs]
        return data


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 3)


def _latency(values: Sequence[float]) -> LatencySummary:
    return LatencySummary(
        len(values), _percentile(values, 0.5), _percentile(values, 0.95), _percentile(values, 0.99)
    )


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _delta_bin(delta: float) -> str:
    clipped = max(-_DELTA_LIMIT, min(_DELTA_LIMIT - 0.001, delta))
    low = math.floor(clipped / _DELTA_BIN) * _DELTA_BIN
    return f"{low:+d}..{low + _DELTA_BIN:+d}"


def _checks(backtest: dict[str, Any], readiness: Readiness) -> list[Check]:
    def at_least(name: str, value: float | None, threshold: float) -> Check:
        return Check(name, value, threshold, value is not None and value >= threshold, ">=")

    def at_most(name: str, value: float | None, threshold: float) -> Check:
        return Check(name, value, threshold, value is not None and value <= threshold, "<=")

    checks = [
        at_least("samples", float(backtest["samples"]), readiness.min_samples),
        at_least("match_rate", backtest["match_rate"], readiness.min_match_rate),
        at_most("pdt_error_rate", backtest["pdt_error_rate"], readiness.max_pdt_error_rate),
        at_most("pdt_p95_ms", backtest["pdt_p95_ms"], readiness.max_pdt_p95_ms),
        at_least("hours", backtest["hours"], readiness.min_hours),
        at_least("distinct_days", float(backtest["distinct_days"]), readiness.min_distinct_days),
    ]
    # Products without scores, ratings or insight sets are not judged on them.
    if backtest["score_agreement"] is not None:
        checks.append(at_least("score_agreement", backtest["score_agreement"], readiness.min_score_agreement))
    if backtest["rating_agreement"] is not None:
        checks.append(
            at_least("rating_agreement", backtest["rating_agreement"], readiness.min_rating_agreement)
        )
    if backtest["insight_overlap"] is not None:
        checks.append(at_least("insight_overlap", backtest["insight_overlap"], readiness.min_insight_overlap))
    return checks


def _field_agreement(
    compared: Counter[str], differed: Counter[str], rule_of: dict[str, str | None], rules: CompareRules
) -> list[FieldAgreement]:
    """Every compared field, least agreeing first, with the mapping rule behind it."""
    provenance: dict[str, str] = {}
    for operation in rules.operations.values():
        provenance.update(operation.provenance)
    rows = []
    for path, times in compared.items():
        # A one-sided set member also counts under its list ("insights[]"): never below 0.
        failed = min(differed.get(path, 0), times)
        rule = rule_of.get(path) or provenance.get(path) or provenance.get(path.removesuffix("[]"))
        rows.append(FieldAgreement(path, rule, times, failed, round(1 - failed / times, 4)))
    return sorted(rows, key=lambda row: (row.agreement, row.field))


def build_backtest(
    tenant: str,
    results: Iterable[ShadowResult],
    rules: CompareRules,
    *,
    window_from: datetime,
    window_to: datetime,
    top: int = 15,
) -> Backtest:
    """The backtest of ``tenant`` over ``results`` (already filtered to the window)."""
    samples = 0
    matched = thin = compared_fields = status_agreed = pdt_errors = 0
    by_operation: Counter[str] = Counter()
    score_pairs: list[tuple[float, float]] = []
    score_within = 0
    histogram: Counter[str] = Counter()
    matrix: dict[str, Counter[str]] = {}
    overlaps: list[float] = []
    legacy_ms: list[float] = []
    pdt_ms: list[float] = []
    differences: Counter[tuple[str, str | None, str]] = Counter()
    field_compared: Counter[str] = Counter()
    field_differed: Counter[str] = Counter()
    field_rule: dict[str, str | None] = {}
    examples: dict[tuple[str, str | None, str], tuple[Any, Any]] = {}
    moments: list[datetime] = []
    first: datetime | None = None
    last: datetime | None = None
    days: set[date] = set()
    for result in results:
        samples += 1
        moments.append(result.at)
        first = result.at if first is None or result.at < first else first
        last = result.at if last is None or result.at > last else last
        days.add(result.at.astimezone(UTC).date())
        comparison = result.comparison
        by_operation[result.operation] += 1
        matched += comparison.matched
        thin += comparison.thin
        compared_fields += comparison.compared
        status_agreed += result.legacy_status == result.pdt_status
        pdt_errors += result.pdt_status >= 500 and result.legacy_status < 500
        legacy_ms.append(result.legacy_ms)
        pdt_ms.append(result.pdt_ms)
        tolerances = (
            rules.for_operation(result.operation).tolerances if result.operation in rules.operations else {}
        )
        for path, (legacy, pdt) in comparison.numeric.items():
            score_pairs.append((legacy, pdt))
            score_within += abs(pdt - legacy) <= tolerances.get(path, 0.0)
            histogram[_delta_bin(pdt - legacy)] += 1
        for pairs in comparison.pairs.values():
            for legacy_label, pdt_label in pairs:
                matrix.setdefault(legacy_label, Counter())[pdt_label] += 1
        overlaps.extend(
            overlap.jaccard
            for overlap in comparison.sets.values()
            if overlap.both or overlap.legacy_only or overlap.pdt_only
        )
        field_compared.update(comparison.fields)
        for difference in comparison.differences:
            key = (difference.field, difference.rule, difference.kind)
            differences[key] += 1
            examples.setdefault(key, (difference.legacy, difference.pdt))
            field_differed[difference.field] += 1
            field_rule.setdefault(difference.field, difference.rule)
    rating_total = sum(sum(row.values()) for row in matrix.values())
    rating_same = sum(row.get(label, 0) for label, row in matrix.items())
    figures: dict[str, Any] = {
        "samples": samples,
        "match_rate": _share(matched, samples),
        "pdt_error_rate": _share(pdt_errors, samples),
        "pdt_p95_ms": _percentile(pdt_ms, 0.95),
        "score_agreement": _share(score_within, len(score_pairs)),
        "rating_agreement": _share(rating_same, rating_total),
        "insight_overlap": round(sum(overlaps) / len(overlaps), 4) if overlaps else None,
        "hours": round((last - first).total_seconds() / 3600, 2) if first and last else 0.0,
        "distinct_days": len(days),
    }
    checks = _checks(figures, rules.readiness)
    notes = []
    if thin:
        notes.append(
            f"{thin} comparisons covered fewer fields than declared (min_compared): check compare.yaml"
        )
    return Backtest(
        tenant=tenant,
        window_from=window_from,
        window_to=window_to,
        samples=samples,
        by_operation=dict(sorted(by_operation.items())),
        matched=matched,
        thin=thin,
        match_rate=figures["match_rate"],
        compared_fields=compared_fields,
        status_agreement=_share(status_agreed, samples),
        score_pairs=score_pairs,
        score_agreement=figures["score_agreement"],
        score_mean_abs_delta=(
            round(sum(abs(pdt - legacy) for legacy, pdt in score_pairs) / len(score_pairs), 3)
            if score_pairs
            else None
        ),
        score_delta_histogram=dict(sorted(histogram.items(), key=lambda item: int(item[0].split("..")[0]))),
        rating_matrix={label: dict(sorted(row.items())) for label, row in sorted(matrix.items())},
        rating_agreement=figures["rating_agreement"],
        insight_overlap=figures["insight_overlap"],
        legacy_latency=_latency(legacy_ms),
        pdt_latency=_latency(pdt_ms),
        pdt_error_rate=figures["pdt_error_rate"],
        hours=figures["hours"],
        distinct_days=figures["distinct_days"],
        top_differences=[
            FieldDifferences(path, rule, kind, count, *examples[(path, rule, kind)])
            for (path, rule, kind), count in differences.most_common(top)
        ],
        field_agreement=_field_agreement(field_compared, field_differed, field_rule, rules),
        checks=checks,
        ready=all(check.passed for check in checks),
        notes=notes,
        coverage=coverage(moments, window_from, window_to),
    )
