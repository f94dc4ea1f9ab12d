"""The backtest page: self-contained, escaped, and saying what it measured."""

from __future__ import annotations

import re

from proxy.backtest.html import render_html
from proxy.backtest.report import build_backtest
from proxy.stages.shadow import ShadowResult

from .support import AT, RULES, dt_answer, result, spread


def page(results: list[ShadowResult]) -> str:
    return render_html(build_backtest("acme <script>", results, RULES, window_from=AT, window_to=AT))


def test_a_ready_tenant() -> None:
    html = page([result(at=at) for at in spread(100)])
    assert "Ready for cut-over to PDT" in html
    assert html.count("<svg") >= 3
    assert "100 requests compared" in html
    assert "span 72.0 hours over\n4 distinct days" in html


def test_a_tenant_not_ready_names_the_failing_criteria() -> None:
    html = page([result(dt_answer(40.0), dt_answer(90.0)) for _ in range(5)])
    assert "Not ready for cut-over yet" in html
    assert "failing: samples, match rate" in html
    assert "dt.resp.score" in html
    assert "Agreement per field" in html


def test_the_page_is_self_contained_and_escaped() -> None:
    html = page([result()])
    assert "<script" not in html
    assert "acme &lt;script&gt;" in html
    assert not re.search(r'(src|href)="https?://', html)
    assert "<link" not in html


def test_a_burst_of_samples_is_not_ready_and_the_page_names_time_coverage() -> None:
    html = page([result() for _ in range(150)])
    assert "Not ready for cut-over yet" in html
    assert "failing: hours, distinct days" in html
    assert "0.0 h" in html
