"""Live gates and the decision they lead to, from known figures (pure)."""

from __future__ import annotations

import pytest

from proxy.autopilot.figures import LedgerRow, StepFigures, step_figures
from proxy.autopilot.gates import decide, live_gates
from proxy.autopilot_plan import AutopilotDefaults, parse_plan

PLAN = parse_plan(
    {
        "steps": [
            {"stage": "canary", "percent": 5},
            {"stage": "canary", "percent": 25},
            "pdt-fallback",
            "pdt",
        ],
        "gates": {"min_samples": 100, "min_breach_samples": 20},
        "hold_s": 3600,
    },
    AutopilotDefaults(),
)


def rows(
    ok: int = 0,
    *,
    errors: int = 0,
    legacy: int = 0,
    fallbacks: dict[str, int] | None = None,
    pdt_ms: float = 80.0,
    legacy_ms: float = 60.0,
) -> list[LedgerRow]:
    made = [LedgerRow("pdt", 200, None, pdt_ms) for _ in range(ok)]
    made += [LedgerRow("pdt", 503, None, pdt_ms) for _ in range(errors)]
    made += [LedgerRow("legacy", 200, None, legacy_ms) for _ in range(legacy)]
    for cause, count in (fallbacks or {}).items():
        made += [LedgerRow("legacy", 200, cause, legacy_ms) for _ in range(count)]
    return made


def figures(**kwargs: object) -> StepFigures:
    return step_figures(rows(**kwargs), min_reference=20)  # type: ignore[arg-type]


CASES = [
    # (stage, figures, held_s, decision, to)
    pytest.param(
        "canary:5", figures(ok=10, legacy=190), 7200, "promote", "canary:25", id="healthy-canary-held"
    ),
    pytest.param("canary:5", figures(ok=10, legacy=190), 600, "hold", "canary:5", id="hold-not-served"),
    pytest.param("canary:5", figures(ok=2, legacy=40), 7200, "hold", "canary:5", id="too-few-requests"),
    pytest.param(
        "canary:25",
        figures(ok=47, errors=3, legacy=150),
        60,
        "rollback",
        "canary:5",
        id="errors-one-step-back",
    ),
    pytest.param(
        "canary:25",
        figures(ok=20, errors=30, legacy=150),
        60,
        "rollback",
        "shadow",
        id="severe-errors-to-shadow",
    ),
    pytest.param(
        "canary:25",
        figures(ok=5, errors=3, legacy=30),
        60,
        "hold",
        "canary:25",
        id="errors-on-too-few-calls-wait",
    ),
    pytest.param(
        "pdt-fallback",
        figures(ok=190, fallbacks={"timeout": 6, "unavailable": 4}),
        7200,
        "rollback",
        "canary:25",
        id="fallbacks-one-step-back",
    ),
    pytest.param(
        "canary:25", figures(ok=50, legacy=150, pdt_ms=600.0), 60, "rollback", "canary:5", id="slow-pdt"
    ),
    pytest.param(
        "canary:25", figures(ok=50, legacy=150, pdt_ms=3000.0), 60, "rollback", "shadow", id="very-slow-pdt"
    ),
    pytest.param("pdt", figures(ok=500), 999999, "hold", "pdt", id="last-step-holds"),
    pytest.param(
        "pdt", figures(ok=100, errors=10), 60, "rollback", "pdt-fallback", id="last-step-rolls-back"
    ),
    pytest.param("legacy", figures(legacy=500), 999999, "hold", "legacy", id="off-plan-stage"),
]


@pytest.mark.parametrize(("stage", "measured", "held_s", "decision", "to"), CASES)
def test_live_decisions(stage: str, measured: StepFigures, held_s: float, decision: str, to: str) -> None:
    gates = live_gates(measured, PLAN.gates, held_s=held_s, hold_s=PLAN.hold_s)
    verdict = decide(PLAN, "active", stage, gates, measured)
    assert (verdict.decision, verdict.to_stage) == (decision, to)
    if decision == "rollback":
        assert verdict.missing
        assert verdict.reason.startswith(("breach", "severe breach"))


def test_a_halted_plan_rolls_back_but_does_not_promote() -> None:
    healthy = figures(ok=10, legacy=190)
    verdict = decide(
        PLAN, "halted", "canary:5", live_gates(healthy, PLAN.gates, held_s=7200, hold_s=3600), healthy
    )
    assert verdict.decision == "hold"
    assert "resume" in verdict.reason
    failing = figures(ok=20, errors=30, legacy=150)
    verdict = decide(
        PLAN, "halted", "canary:25", live_gates(failing, PLAN.gates, held_s=1, hold_s=3600), failing
    )
    assert verdict.decision == "rollback"


def test_figures_by_cause_and_latency_reference() -> None:
    measured = step_figures(
        rows(ok=30, errors=2, fallbacks={"timeout": 3, "unmappable": 1}), baseline_p99_ms=50.0
    )
    assert (measured.requests, measured.pdt_attempts, measured.pdt_errors) == (36, 36, 6)
    assert measured.fallback_causes == {"timeout": 3, "unmappable": 1}
    assert measured.fallback_rate == round(4 / 36, 4)
    # Four legacy answers are too few to be a reference: the shadow baseline stands in.
    assert (measured.legacy_reference, measured.added_p99_ms) == ("shadow", 30.0)
    alone = step_figures(rows(ok=5))
    assert (alone.legacy_reference, alone.added_p99_ms) == (None, None)
