"""Backtest figures and the readiness verdict, from known comparisons."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from proxy.backtest.report import Backtest, build_backtest
from proxy.state.records import ShadowResult

from .support import AT, RULES, dt_answer, result, spread


def backtest(results: list[ShadowResult], **readiness: float) -> Backtest:
    rules = replace(RULES, readiness=RULES.readiness.model_copy(update=readiness)) if readiness else RULES
    return build_backtest("acme", results, rules, window_from=AT, window_to=AT)


def test_agreeing_traffic_is_ready() -> None:
    report = backtest([result(at=at) for at in spread(100)])
    assert report.samples == 100
    assert report.match_rate == 1.0
    assert report.score_agreement == 1.0
    assert report.rating_agreement == 1.0
    assert report.insight_overlap == 1.0
    assert report.rating_matrix == {"High": {"High": 100}}
    assert report.ready
    assert all(check.passed for check in report.checks)
    assert report.by_operation == {"datatrust.transaction.create": 100}


def test_figures_from_mixed_traffic() -> None:
    results = [
        result(dt_answer(40.0), dt_answer(43.0)),  # within the 5-point tolerance
        result(dt_answer(40.0), dt_answer(60.0)),  # 20 points apart
        result(dt_answer(40.0, rating="High"), dt_answer(40.0, rating="Medium")),
        result(dt_answer(40.0, codes=("A", "B")), dt_answer(40.0, codes=("B", "C"))),
    ]
    report = backtest(results)
    assert report.samples == 4
    assert report.matched == 1
    assert report.match_rate == 0.25
    assert report.score_agreement == 0.75
    assert report.score_mean_abs_delta == pytest.approx((3 + 20) / 4)
    assert report.score_delta_histogram == {"+0..+5": 3, "+20..+25": 1}
    assert report.rating_matrix == {"High": {"High": 3, "Medium": 1}}
    assert report.rating_agreement == 0.75
    # Three rating sets agree fully; insight sets: 1, 1, 1 and 1/3.
    assert report.insight_overlap == pytest.approx(round((4 * 1 + 3 * 1 + 1 / 3) / 8, 4))
    fields = {(item.field, item.rule) for item in report.top_differences}
    assert ("score", "dt.resp.score") in fields
    assert ("ratings[].value", "dt.resp.rating.value") in fields
    assert ("insights[]", "dt.resp.insights") in fields
    assert not report.ready


@pytest.mark.parametrize(
    ("results", "failing"),
    [
        pytest.param([result() for _ in range(10)], {"samples"}, id="too-few-samples"),
        pytest.param(
            [result() for _ in range(95)] + [result(pdt_status=503) for _ in range(5)],
            {"pdt_error_rate"},
            id="pdt-failing",
        ),
        pytest.param([result(pdt_ms=5000.0) for _ in range(100)], {"pdt_p95_ms"}, id="pdt-slow"),
        pytest.param(
            [result(dt_answer(40.0), dt_answer(80.0)) for _ in range(100)],
            {"match_rate", "score_agreement"},
            id="scores-apart",
        ),
    ],
)
def test_each_failing_criterion_is_named(results: list[ShadowResult], failing: set[str]) -> None:
    # Time coverage has its own test: here every sample is at one moment.
    report = backtest(results, min_hours=0, min_distinct_days=0)
    assert not report.ready
    assert {check.name for check in report.checks if not check.passed} == failing


def test_latency_percentiles() -> None:
    report = backtest([result(legacy_ms=float(ms), pdt_ms=float(ms) / 2) for ms in range(1, 101)])
    assert (report.legacy_latency.p50_ms, report.legacy_latency.p95_ms, report.legacy_latency.p99_ms) == (
        50.0,
        95.0,
        99.0,
    )
    assert report.pdt_latency.p50_ms == 25.0


def test_an_empty_window_is_not_ready_and_says_why() -> None:
    report = backtest([])
    assert report.samples == 0
    assert report.match_rate is None
    assert not report.ready
    assert {check.name for check in report.checks if not check.passed} >= {"samples", "match_rate"}


def test_json_form_is_plain_data() -> None:
    import orjson

    data = backtest([result()]).to_json()
    assert orjson.loads(orjson.dumps(data))["tenant"] == "acme"
    assert data["window_from"] == AT.isoformat()


def test_agreement_per_field_names_the_rule_and_puts_the_worst_first() -> None:
    results = [
        result(dt_answer(40.0), dt_answer(60.0)),
        result(dt_answer(40.0), dt_answer(41.0)),
        result(dt_answer(40.0, rating="High"), dt_answer(40.0, rating="Low")),
        result(),
    ]
    rows = {row.field: row for row in backtest(results).field_agreement}
    assert (rows["score"].compared, rows["score"].differed, rows["score"].agreement) == (4, 1, 0.75)
    assert rows["score"].rule == "dt.resp.score"
    assert (rows["ratings[].value"].differed, rows["ratings[].value"].rule) == (1, "dt.resp.rating.value")
    assert rows["insights[].type"].agreement == 1.0
    ordered = [row.agreement for row in backtest(results).field_agreement]
    assert ordered == sorted(ordered)


COVERAGE = [
    # (sample times as hours after AT, hours, distinct days, ready)
    pytest.param([0.0] * 120, 0.0, 1, False, id="120-samples-in-one-minute"),
    pytest.param([index * 0.5 for index in range(120)], 59.5, 3, False, id="three-days-short-of-72-hours"),
    pytest.param([index * 0.6 for index in range(121)], 72.0, 4, True, id="72-hours-over-4-days"),
    pytest.param([0.0] * 60 + [72.0] * 60, 72.0, 2, False, id="two-bursts-72-hours-apart"),
]


@pytest.mark.parametrize(("offsets", "hours", "days", "ready"), COVERAGE)
def test_the_verdict_covers_time_not_only_a_count(
    offsets: list[float], hours: float, days: int, ready: bool
) -> None:
    report = backtest([result(at=AT + timedelta(hours=offset)) for offset in offsets])
    assert (report.hours, report.distinct_days) == (hours, days)
    checks = {check.name: check for check in report.checks}
    assert (checks["hours"].threshold, checks["distinct_days"].threshold) == (72, 3)
    assert report.ready is ready
    data = report.to_json()
    assert (data["hours"], data["distinct_days"]) == (hours, days)
    assert {"hours", "distinct_days"} <= {check["name"] for check in data["checks"]}
