"""What a replay found, summed from its outcomes, and the pass/fail verdict. Pure.

Per operation: how many exchanges were replayed, matched, mismatched, failed (no
answer), skipped, thin, and how many fields were compared. Per field: every
difference grouped by operation, field path and the mapping rule that produced the
field, with its kinds and one (masked) example. The verdict fails when the mismatch
rate (mismatched or failed over replayed) exceeds the threshold, when any
comparison of two successful answers covered fewer fields than declared (thin),
or when nothing was replayed at all.

Renderings: ``render_text`` (the CLI summary), ``report_to_json``; the HTML page
is ``proxy.replay.html``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proxy.comparison.codec import comparison_to_json
from proxy.replay.replayer import Outcome

__all__ = ["FieldSummary", "OperationSummary", "ReplayReport", "render_text", "report_to_json", "summarise"]


@dataclass
class OperationSummary:
    operation: str
    replayed: int = 0
    matched: int = 0
    mismatched: int = 0
    failed: int = 0
    skipped: int = 0
    thin: int = 0
    compared: int = 0


@dataclass
class FieldSummary:
    operation: str
    field: str
    rule: str | None
    count: int = 0
    kinds: Counter[str] = dataclasses.field(default_factory=Counter)
    example_legacy: Any = None
    example_replayed: Any = None
    example_item: str | None = None
    first_exchange: int = 0


@dataclass(frozen=True)
class ReplayReport:
    corpus: str
    target: str
    max_mismatch_rate: float
    min_compared: int | None
    outcomes: tuple[Outcome, ...]
    operations: tuple[OperationSummary, ...]
    fields: tuple[FieldSummary, ...]
    skipped_reasons: dict[str, int]

    @property
    def entries(self) -> int:
        return len(self.outcomes)

    def _count(self, attribute: str) -> int:
        return sum(getattr(summary, attribute) for summary in self.operations)

    @property
    def replayed(self) -> int:
        return self._count("replayed")

    @property
    def matched(self) -> int:
        return self._count("matched")

    @property
    def mismatched(self) -> int:
        return self._count("mismatched")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def thin(self) -> int:
        return self._count("thin")

    @property
    def compared(self) -> int:
        return self._count("compared")

    @property
    def mismatch_rate(self) -> float:
        return 0.0 if self.replayed == 0 else (self.mismatched + self.failed) / self.replayed

    @property
    def failures(self) -> tuple[str, ...]:
        """Why the replay fails; empty when it passes."""
        reasons = []
        if self.replayed == 0:
            reasons.append("no exchange was replayed")
        if self.mismatch_rate > self.max_mismatch_rate:
            reasons.append(
                f"mismatch rate {self.mismatch_rate:.2%} exceeds the maximum {self.max_mismatch_rate:.2%}"
            )
        if self.thin:
            reasons.append(f"{self.thin} comparison(s) covered fewer fields than declared (thin)")
        return tuple(reasons)

    @property
    def passed(self) -> bool:
        return not self.failures

    def rules_behind_differences(self) -> frozenset[str]:
        return frozenset(summary.rule for summary in self.fields if summary.rule is not None)


def summarise(
    outcomes: Sequence[Outcome],
    *,
    corpus: str,
    target: str,
    max_mismatch_rate: float = 0.0,
    min_compared: int | None = None,
) -> ReplayReport:
    operations: dict[str, OperationSummary] = {}
    fields: dict[tuple[str, str, str | None], FieldSummary] = {}
    skipped: Counter[str] = Counter()
    for outcome in outcomes:
        summary = operations.setdefault(outcome.operation, OperationSummary(outcome.operation))
        if outcome.kind == "skipped":
            summary.skipped += 1
            skipped[outcome.reason or "skipped"] += 1
            continue
        summary.replayed += 1
        if outcome.kind == "failed":
            summary.failed += 1
            continue
        summary.matched += outcome.kind == "matched"
        summary.mismatched += outcome.kind == "mismatched"
        summary.thin += outcome.thin
        if outcome.comparison is None:
            continue
        summary.compared += outcome.comparison.compared
        for difference in outcome.comparison.differences:
            key = (outcome.operation, difference.field, difference.rule)
            entry = fields.get(key)
            if entry is None:
                entry = fields[key] = FieldSummary(
                    outcome.operation,
                    difference.field,
                    difference.rule,
                    example_legacy=difference.legacy,
                    example_replayed=difference.pdt,
                    example_item=difference.item,
                    first_exchange=outcome.index,
                )
            entry.count += 1
            entry.kinds[difference.kind] += 1
    return ReplayReport(
        corpus,
        target,
        max_mismatch_rate,
        min_compared,
        tuple(outcomes),
        tuple(sorted(operations.values(), key=lambda item: item.operation)),
        tuple(sorted(fields.values(), key=lambda item: (-item.count, item.operation, item.field))),
        dict(skipped.most_common()),
    )


def _short(value: Any, width: int = 40) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in (header, *rows):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return lines


def render_text(report: ReplayReport) -> str:
    lines = [
        f"replay of {report.corpus} against {report.target}",
        f"{report.entries} exchanges: {report.replayed} replayed, {report.skipped} skipped; "
        f"{report.matched} matched, {report.mismatched} mismatched, {report.failed} without answer; "
        f"mismatch rate {report.mismatch_rate:.2%} (max {report.max_mismatch_rate:.2%}); "
        f"{report.compared} fields compared, {report.thin} thin",
        "",
    ]
    lines += _table(
        ("operation", "replayed", "matched", "mismatched", "failed", "skipped", "thin", "fields"),
        [
            (
                s.operation,
                str(s.replayed),
                str(s.matched),
                str(s.mismatched),
                str(s.failed),
                str(s.skipped),
                str(s.thin),
                str(s.compared),
            )
            for s in report.operations
        ],
    )
    if report.fields:
        lines += ["", "differences by field, with the mapping rule behind each:"]
        lines += _table(
            ("operation", "field", "rule", "count", "kinds", "first", "example legacy → replayed"),
            [
                (
                    f.operation,
                    f.field + (f" (e.g. {f.example_item})" if f.example_item else ""),
                    f.rule or "(no rule)",
                    str(f.count),
                    ",".join(sorted(f.kinds)),
                    f"#{f.first_exchange}",
                    f"{_short(f.example_legacy)} → {_short(f.example_replayed)}",
                )
                for f in report.fields
            ],
        )
    if report.skipped_reasons:
        lines += ["", "skipped:"]
        lines += [f"  {count} × {reason}" for reason, count in report.skipped_reasons.items()]
    lines.append("")
    if report.passed:
        lines.append("PASS")
    else:
        lines += [f"FAIL: {reason}" for reason in report.failures]
    return "\n".join(lines) + "\n"


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "exchange": outcome.index,
        "operation": outcome.operation,
        "tenant": outcome.tenant,
        "outcome": outcome.kind,
        "legacy_status": outcome.legacy_status,
        "replay_status": outcome.replay_status,
        "reason": outcome.reason,
        "thin": outcome.thin,
        "comparison": None if outcome.comparison is None else comparison_to_json(outcome.comparison),
    }


def report_to_json(report: ReplayReport) -> dict[str, Any]:
    return {
        "corpus": report.corpus,
        "target": report.target,
        "passed": report.passed,
        "failures": list(report.failures),
        "thresholds": {"max_mismatch_rate": report.max_mismatch_rate, "min_compared": report.min_compared},
        "totals": {
            "exchanges": report.entries,
            "replayed": report.replayed,
            "matched": report.matched,
            "mismatched": report.mismatched,
            "failed": report.failed,
            "skipped": report.skipped,
            "thin": report.thin,
            "fields_compared": report.compared,
            "mismatch_rate": report.mismatch_rate,
        },
        "operations": [vars(summary).copy() for summary in report.operations],
        "fields": [
            {
                "operation": f.operation,
                "field": f.field,
                "rule": f.rule,
                "count": f.count,
                "kinds": dict(f.kinds),
                "example": {
                    "legacy": f.example_legacy,
                    "replayed": f.example_replayed,
                    "item": f.example_item,
                },
                "first_exchange": f.first_exchange,
            }
            for f in report.fields
        ],
        "skipped": report.skipped_reasons,
        "exchanges": [_outcome_json(outcome) for outcome in report.outcomes],
    }
