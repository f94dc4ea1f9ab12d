"""proxy.cockpit.estate: each tenant's figures, what needs attention, filters and sorting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from proxy.cockpit.estate import EstateRow, TenantInputs, build_row, select_rows, week_backtest
from proxy.ledger.record import LedgerRecord
from proxy.state.records import ShadowResult, StageChange
from tests.backtest.support import AT, RULES, dt_answer, result

NOW = AT


def described(stage: str = "shadow", tenant: str = "acme", name: str = "Acme") -> dict[str, Any]:
    return {"tenant": tenant, "name": name, "stage": stage, "products": {"datatrust-v1": stage}}


def shadow(days_ago: float, *, agree: bool = True, pdt_status: int = 200) -> ShadowResult:
    made = result() if agree else result(dt_answer(40.0), dt_answer(90.0))
    return replace(made, at=NOW - timedelta(days=days_ago), pdt_status=pdt_status)


def record(
    hours_ago: float, *, side: str = "legacy", stage: str = "legacy", status: int = 200
) -> LedgerRecord:
    return LedgerRecord(
        NOW - timedelta(hours=hours_ago), "acme", "datatrust-v1", "datatrust.transaction.create",
        stage, side, None, (), status, 10.0, "r",
    )  # fmt: skip


def row(
    *,
    stage: str = "shadow",
    shadows: list[ShadowResult] | None = None,
    ledger: list[LedgerRecord] | None = None,
    audit: list[StageChange] | None = None,
    autopilot: dict[str, Any] | None = None,
) -> EstateRow:
    inputs = TenantInputs(described(stage), shadows or [], ledger or [], audit or [], 7, autopilot)
    return build_row(inputs, week_backtest(inputs, RULES, NOW), NOW)


def test_agreement_over_7_and_30_days_and_the_daily_trend() -> None:
    figures = row(shadows=[shadow(1), shadow(2, agree=False), shadow(20), shadow(20), shadow(40)])
    assert (figures.samples_7d, figures.agreement_7d) == (2, 0.5)
    assert (figures.samples_30d, figures.agreement_30d) == (4, 0.75)  # the 40-day-old one is out
    assert len(figures.trend) == 30
    # Two days ago one disagreed, yesterday one agreed, nothing today.
    assert figures.trend[-3:] == [0.0, 1.0, None]
    assert figures.ready is False
    assert "samples" in figures.failing
    assert figures.billable_month == 7


def test_no_samples_is_no_verdict() -> None:
    figures = row()
    assert (figures.ready, figures.agreement_7d, figures.failing) == (None, None, [])


def test_legacy_traffic_pdt_errors_and_fallbacks() -> None:
    figures = row(
        stage="pdt-fallback",
        ledger=[
            record(1),
            record(30),
            record(24 * 40),
            record(2, side="pdt", stage="pdt-fallback"),
            record(3, side="legacy", stage="pdt-fallback"),
            record(4, side="pdt", stage="pdt", status=503),
        ],
        shadows=[shadow(1), shadow(1, pdt_status=502)],
    )
    assert (figures.legacy_24h, figures.legacy_30d) == (2, 3)  # the fallback answer is legacy's too
    assert figures.fallback_rate == 0.5
    # PDT tried 5 times (2 fallback-stage calls, 1 pdt answer, 2 shadows): 1 fallback, 1 503, 1 shadow 502.
    assert figures.pdt_error_rate == pytest.approx(3 / 5)


ACT = NOW - timedelta(days=2)


@pytest.mark.parametrize(
    ("case", "attention"),
    [
        ({}, []),
        # Too few samples on a canary is "wait", not a breach.
        ({"stage": "canary:10", "shadows": [shadow(1)]}, []),
        # A failing figure while PDT answers part of the traffic is.
        ({"stage": "canary:10", "shadows": [shadow(1, agree=False)]}, ["gate_breached"]),
        # The same figure in shadow is not a breach: nothing depends on PDT yet.
        ({"stage": "shadow", "shadows": [shadow(1, agree=False)]}, []),
        ({"autopilot": {"current_step": "canary 5 %", "breached": True}}, ["gate_breached"]),
        ({"autopilot": {"gates": [{"name": "match_rate", "breached": True}]}}, ["gate_breached"]),
        (
            {"shadows": [shadow(1)] * 5 + [shadow(1, agree=False)] * 5 + [shadow(10)] * 40},
            ["agreement_falling"],
        ),
        (
            {
                "stage": "pdt",
                "audit": [StageChange(ACT, "ana", "acme", "datatrust-v1", "canary:50", "pdt")],
                "ledger": [record(1)],
            },
            ["legacy_after_cut_over"],
        ),
        # Legacy answers from before the cut-over are history, not trouble.
        (
            {
                "stage": "pdt",
                "audit": [StageChange(ACT, "ana", "acme", None, "canary:50", "pdt")],
                "ledger": [record(24 * 3)],
            },
            [],
        ),
    ],
)
def test_what_needs_attention(case: dict[str, Any], attention: list[str]) -> None:
    assert row(**case).attention == attention


def test_the_autopilot_step_and_next_gate() -> None:
    figures = row(autopilot={"current_step": "canary 10 %", "next_gate": {"name": "7 days at 95 %"}})
    assert (figures.autopilot_step, figures.autopilot_gate) == ("canary 10 %", "7 days at 95 %")
    assert row().autopilot_step is None


def _named(name: str, **changes: Any) -> EstateRow:
    base = row()
    return replace(base, tenant=name.lower(), name=name, **changes)


ROWS = [
    _named("Bravo", products={"ffr": "canary:10"}, agreement_7d=0.9, legacy_24h=5),
    _named("alpha", products={"datatrust-v1": "shadow"}, agreement_7d=None, legacy_24h=9),
    _named("Charlie", products={"mobile-trust": "pdt"}, agreement_7d=0.8, attention=["gate_breached"]),
]


@pytest.mark.parametrize(
    ("options", "order"),
    [
        ({}, ["Charlie", "alpha", "Bravo"]),  # attention first, then by name
        ({"sort": "name"}, ["alpha", "Bravo", "Charlie"]),
        ({"sort": "agreement_7d"}, ["Charlie", "Bravo", "alpha"]),  # missing figures last
        ({"sort": "agreement_7d", "descending": True}, ["Bravo", "Charlie", "alpha"]),
        ({"sort": "legacy_24h", "descending": True}, ["alpha", "Bravo", "Charlie"]),
        ({"stage": "canary"}, ["Bravo"]),
        ({"product": "mobile-trust"}, ["Charlie"]),
        ({"stage": "pdt", "product": "ffr"}, []),
        ({"sort": "no-such-column"}, ["Charlie", "alpha", "Bravo"]),
    ],
)
def test_filters_and_sorting(options: dict[str, Any], order: list[str]) -> None:
    assert [item.name for item in select_rows(ROWS, **options)] == order
