"""Plans from request bodies and tenant files, with compare.yaml's defaults (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.autopilot_plan import AutopilotDefaults, parse_defaults, parse_plan
from tests.backtest.support import RULES

DEFAULTS = parse_defaults(RULES.autopilot)


def test_the_shipped_defaults_and_tech_touch_profile() -> None:
    plan = parse_plan({}, DEFAULTS)
    assert [step.label for step in plan.steps] == ["canary:5", "canary:25", "pdt-fallback", "pdt"]
    assert (plan.gates.min_samples, plan.gates.min_hours, plan.gates.min_distinct_days) == (500, 72, 3)
    assert plan.hold_s == 86400
    touch = parse_plan({"profile": "tech-touch"}, DEFAULTS)
    assert touch.steps[0].label == "canary:1"
    assert touch.gates.min_hours == 168
    # A profile's gates merge over the defaults: the ones it does not name keep theirs.
    assert touch.gates.max_added_p99_ms == plan.gates.max_added_p99_ms


def test_a_plan_names_only_what_differs() -> None:
    plan = parse_plan(
        {"product": "ffr", "steps": ["canary:10", "pdt"], "gates": {"min_samples": 9}}, DEFAULTS
    )
    assert plan.product == "ffr"
    assert [step.label for step in plan.steps] == ["canary:10", "pdt"]
    assert plan.gates.min_samples == 9
    assert plan.gates.min_match_rate == DEFAULTS.gates.min_match_rate
    assert parse_plan(plan.to_json(), DEFAULTS) == plan


BAD: list[tuple[Any, str]] = [
    ([], "a plan is an object"),
    ({"steps": []}, "at least one step"),
    ({"steps": ["canary:5"]}, "the last step is pdt"),
    ({"steps": ["shadow", "pdt"]}, "not a step after shadow"),
    ({"steps": ["pdt", "pdt"]}, "appears twice"),
    ({"steps": ["canary:500", "pdt"]}, "whole percent"),
    ({"gates": {"min_match_rate": 2}}, "gates.min_match_rate"),
    ({"gates": {"typo": 1}}, "gates.typo"),
    ({"hold_s": -1}, "hold_s"),
    ({"profile": "nobody"}, "unknown 'nobody'"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("raw", "message"), BAD)
def test_a_bad_plan_names_its_problem(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_plan(raw, DEFAULTS)


def test_defaults_with_a_broken_profile_are_refused() -> None:
    with pytest.raises(ValueError, match=r"profiles\.broken"):
        parse_defaults({"profiles": {"broken": {"steps": ["canary:5"]}}})
    assert parse_defaults(None) == AutopilotDefaults()
