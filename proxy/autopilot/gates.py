"""Gates and the decision they lead to: promote, hold or roll back. Pure.

From ``shadow`` the gates are the backtest's checks over the plan's window (with the
plan's thresholds, time coverage included) plus the latency PDT would add. From a
live step (a canary, ``pdt-fallback``, ``pdt``) they are the step's own figures since
it began. A live gate *breached* (failing, on enough requests to be more than
noise) rolls back at once, whatever the hold: one step, or straight to ``shadow``
when the breach is severe. A promotion needs every gate passed and the hold served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from proxy.autopilot.figures import StepFigures
from proxy.autopilot_plan import Gates, Plan, PlanStatus, Severe
from proxy.backtest.report import Backtest

__all__ = ["DecisionKind", "GateResult", "Verdict", "decide", "live_gates", "shadow_gates"]

DecisionKind = Literal["promote", "hold", "rollback"]


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    value: float | None
    threshold: float
    comparison: str  # ">=" or "<="
    passed: bool
    # A failing live gate on enough requests: a rollback, not a wait.
    breached: bool = False

    def describe(self) -> str:
        shown = "not measured" if self.value is None else f"{self.value:g}"
        return f"{self.name}: {shown} (needs {self.comparison} {self.threshold:g})"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "passed": self.passed,
            "breached": self.breached,
        }


@dataclass(frozen=True)
class Verdict:
    decision: DecisionKind
    from_stage: str
    to_stage: str
    reason: str
    gates: list[GateResult]
    severe: bool = False
    missing: list[str] = field(default_factory=list)


def _at_least(name: str, value: float | None, threshold: float) -> GateResult:
    return GateResult(name, value, threshold, ">=", value is not None and value >= threshold)


def _at_most(name: str, value: float | None, threshold: float, *, judged: bool = False) -> GateResult:
    passed = value is not None and value <= threshold
    return GateResult(
        name, value, threshold, "<=", passed, breached=judged and value is not None and not passed
    )


def shadow_gates(backtest: Backtest, gates: Gates) -> list[GateResult]:
    """The backtest's checks (run with the plan's thresholds) and PDT's added p99."""
    results = [
        GateResult(check.name, check.value, check.threshold, check.comparison, check.passed)
        for check in backtest.checks
    ]
    pdt, legacy = backtest.pdt_latency.p99_ms, backtest.legacy_latency.p99_ms
    added = None if pdt is None or legacy is None else round(pdt - legacy, 3)
    results.append(_at_most("added_p99_ms", added, gates.max_added_p99_ms))
    return results


def live_gates(figures: StepFigures, gates: Gates, *, held_s: float, hold_s: float) -> list[GateResult]:
    """A live step's gates; ``breached`` only on at least ``min_breach_samples`` requests."""
    enough = gates.min_breach_samples
    answered_by_pdt = figures.pdt_attempts - figures.fallbacks
    results = [
        _at_least("samples", float(figures.requests), gates.min_samples),
        _at_least("held_s", round(held_s, 3), hold_s),
        _at_most(
            "pdt_error_rate",
            figures.pdt_error_rate,
            gates.max_pdt_error_rate,
            judged=figures.pdt_attempts >= enough,
        ),
        _at_most(
            "fallback_rate", figures.fallback_rate, gates.max_fallback_rate, judged=figures.requests >= enough
        ),
    ]
    added = _at_most(
        "added_p99_ms", figures.added_p99_ms, gates.max_added_p99_ms, judged=answered_by_pdt >= enough
    )
    if figures.added_p99_ms is None and figures.pdt_attempts:
        # No legacy reference in this step nor from shadow: reported, not blocking.
        added = GateResult(added.name, None, added.threshold, added.comparison, True)
    results.append(added)
    if figures.shadow_samples:
        match = _at_least("match_rate", figures.match_rate, gates.min_match_rate)
        breached = figures.shadow_samples >= enough and not match.passed
        results.append(GateResult(match.name, match.value, match.threshold, ">=", match.passed, breached))
    return results


def _severe(figures: StepFigures, breached: list[GateResult], severe: Severe) -> bool:
    names = {gate.name for gate in breached}
    return (
        ("pdt_error_rate" in names and (figures.pdt_error_rate or 0) >= severe.pdt_error_rate)
        or ("fallback_rate" in names and (figures.fallback_rate or 0) >= severe.fallback_rate)
        or ("added_p99_ms" in names and (figures.added_p99_ms or 0) >= severe.added_p99_ms)
    )


def decide(
    plan: Plan,
    status: PlanStatus,
    current: str,
    gates: list[GateResult],
    figures: StepFigures | None = None,
) -> Verdict:
    """The decision for a tenant at stage ``current`` given its gates (``figures``: a live step's)."""
    labels = [stage.label for stage in plan.stages]
    if current not in labels:
        return Verdict(
            "hold",
            current,
            current,
            f"stage {current} is not on the plan ({', '.join(labels)}): set a stage on it to start",
            gates,
        )
    index = labels.index(current)
    breached = [gate for gate in gates if gate.breached]
    if breached and index > 0:
        severe = figures is not None and _severe(figures, breached, plan.severe)
        target = labels[0] if severe else labels[index - 1]
        why = "; ".join(gate.describe() for gate in breached)
        return Verdict(
            "rollback",
            current,
            target,
            f"{'severe breach' if severe else 'breach'}: {why}",
            gates,
            severe=severe,
            missing=[gate.describe() for gate in breached],
        )
    missing = [gate.describe() for gate in gates if not gate.passed]
    if index == len(labels) - 1:
        return Verdict(
            "hold", current, current, "at the plan's last step; watching its gates", gates, missing=missing
        )
    if missing:
        return Verdict("hold", current, current, "waiting for: " + "; ".join(missing), gates, missing=missing)
    if status == "halted":
        return Verdict(
            "hold", current, current, "halted after a rollback: resume the plan to promote again", gates
        )
    return Verdict("promote", current, labels[index + 1], "every gate passed", gates)
