"""The autopilot end to end on simulated days: real traffic through the proxy and its
simulators, decisions taken by the evaluator, stages changed through the stage control."""

from __future__ import annotations

import logging
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from proxy.autopilot.evaluator import Outcome
from proxy.config import AutopilotSettings, Settings
from tests.autopilot.support import ADMIN, SimulatedProxy, simulated_proxy
from tests.conftest import make_settings

PLAN: dict[str, Any] = {
    "steps": [{"stage": "canary", "percent": 10}, {"stage": "canary", "percent": 50}, "pdt-fallback", "pdt"],
    "gates": {
        "min_samples": 40,
        "min_hours": 24,
        "min_distinct_days": 2,
        "min_match_rate": 0.8,
        "max_pdt_error_rate": 0.02,
        "max_fallback_rate": 0.05,
        "max_added_p99_ms": 300,
        "min_breach_samples": 10,
    },
    "hold_s": 6 * 3600,
    "window_s": 3 * 86400,
}
WALK = ["shadow", "canary:10", "canary:50", "pdt-fallback", "pdt"]


def settings_for(tmp_path: Path, *, disagreement_rate: float) -> Settings:
    settings = make_settings(tmp_path)
    simulator = settings.legacy.simulator.model_copy(update={"disagreement_rate": disagreement_rate})
    # The breaker counts real seconds, which do not pass in simulated days: an open
    # circuit would stay open. Kept closed, every PDT failure reaches the figures.
    breaker = settings.resilience.breaker.model_copy(
        update={"min_calls": 100_000, "consecutive_failures": 100_000}
    )
    return settings.model_copy(
        update={
            "resilience": settings.resilience.model_copy(update={"breaker": breaker}),
            # The test ticks the evaluator itself, at simulated times.
            "autopilot": AutopilotSettings(enabled=False),
            "legacy": settings.legacy.model_copy(update={"simulator": simulator}),
        }
    )


async def start_plan(proxy: SimulatedProxy) -> None:
    moved = await proxy.client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
    assert moved.status_code == 200, moved.text
    answer = await proxy.client.put("/admin/tenants/demo-dt/autopilot", json=PLAN, headers=ADMIN)
    assert answer.status_code == 201, answer.text


async def walk(proxy: SimulatedProxy, *, days: float, until: str | None = None) -> list[Outcome]:
    """Every 3 simulated hours: 6 requests, then one evaluation round."""
    autopilot = proxy.runtime.autopilot
    assert autopilot is not None
    outcomes: list[Outcome] = []
    for _ in range(int(days * 8)):
        await proxy.traffic(6)
        proxy.clock.advance(hours=3)
        outcomes += await autopilot.tick()
        if until is not None and proxy.stage() == until:
            break
    return outcomes


def moves(outcomes: list[Outcome]) -> list[tuple[str, str, str]]:
    return [
        (o.verdict.decision, o.verdict.from_stage, o.verdict.to_stage)
        for o in outcomes
        if o.verdict.decision != "hold"
    ]


async def test_a_healthy_tenant_walks_from_shadow_to_pdt_in_simulated_days(tmp_path: Path) -> None:
    async with simulated_proxy(settings_for(tmp_path, disagreement_rate=0.0)) as proxy:
        await start_plan(proxy)
        outcomes = await walk(proxy, days=10, until="pdt")
        assert proxy.stage() == "pdt"
        assert moves(outcomes) == [("promote", a, b) for a, b in pairwise(WALK)]
        # The shadow gate needed a day of traffic over two dates, each live step its hold.
        promotions = [o for o in outcomes if o.verdict.decision == "promote"]
        assert promotions[0].figures["hours"] >= 24
        assert promotions[0].figures["distinct_days"] >= 2
        for live in promotions[1:]:
            assert live.figures["held_s"] >= 6 * 3600
            assert live.figures["requests"] >= 40
            assert live.figures["pdt_error_rate"] == 0.0
        # Every decision audited, held ones too, with actor autopilot and its figures.
        decisions = await proxy.runtime.autopilot_store.decisions("demo-dt", limit=1000)  # type: ignore[union-attr]
        assert len(decisions) == len(outcomes)
        assert {d.actor for d in decisions} == {"autopilot"}
        assert all(d.figures["gates"] for d in decisions)
        # Stage changes went through the stage control: audited like an operator's.
        audit = await proxy.runtime.state.stage_audit(tenant="demo-dt")
        assert [(c.from_stage, c.to_stage) for c in reversed(audit) if c.actor == "autopilot"] == list(
            pairwise(WALK)
        )
        days = (proxy.clock.now - audit[-1].at).total_seconds() / 86400
        assert 2 <= days <= 10


async def test_a_tenant_whose_pdt_fails_mid_canary_is_rolled_back_within_one_evaluation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with simulated_proxy(settings_for(tmp_path, disagreement_rate=0.0)) as proxy:
        await start_plan(proxy)
        await walk(proxy, days=10, until="canary:50")
        assert proxy.stage() == "canary:50"
        proxy.switch.failing = True
        await proxy.traffic(40)
        autopilot = proxy.runtime.autopilot
        assert autopilot is not None
        with caplog.at_level(logging.WARNING):
            (outcome,) = await autopilot.tick()
        # Severe (every PDT call failing): straight back to shadow, without waiting for the hold.
        assert (outcome.verdict.decision, outcome.verdict.from_stage, outcome.verdict.to_stage) == (
            "rollback",
            "canary:50",
            "shadow",
        )
        assert outcome.verdict.severe
        assert outcome.figures["held_s"] < 6 * 3600
        assert outcome.figures["pdt_error_rate"] > 0.1
        assert proxy.stage() == "shadow"
        assert "autopilot rollback" in caplog.text
        body, _ = proxy.runtime.metrics.render()
        assert (
            'pdt_proxy_autopilot_decisions_total{decision="rollback",severity="severe",tenant="demo-dt"} 1.0'
            in body.decode()
        )
        # Halted: PDT healthy again, shadow passing, still no promotion until an operator resumes.
        proxy.switch.failing = False
        later = await walk(proxy, days=2)
        assert moves(later) == []
        assert proxy.stage() == "shadow"
        view = await proxy.client.get("/admin/tenants/demo-dt/autopilot", headers=ADMIN)
        assert view.json()["status"] == "halted"
        resumed = await proxy.client.post("/admin/tenants/demo-dt/autopilot/resume", headers=ADMIN)
        assert resumed.json()["status"] == "active"
        answer = await proxy.client.post("/admin/tenants/demo-dt/autopilot/evaluate", headers=ADMIN)
        assert (answer.json()["decision"], answer.json()["to"]) == ("promote", "canary:10")


async def test_a_tenant_whose_agreement_is_too_low_never_leaves_shadow(tmp_path: Path) -> None:
    async with simulated_proxy(settings_for(tmp_path, disagreement_rate=0.6)) as proxy:
        await start_plan(proxy)
        outcomes = await walk(proxy, days=5)
        assert proxy.stage() == "shadow"
        assert moves(outcomes) == []
        last = outcomes[-1]
        assert last.figures["samples"] >= 40
        assert last.figures["hours"] >= 24
        assert last.figures["match_rate"] < 0.8
        assert any("match_rate" in missing for missing in last.verdict.missing)
