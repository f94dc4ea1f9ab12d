"""proxy.replay.report: outcomes summed per operation and field, and the verdict."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.comparison.engine import Comparison, Difference
from proxy.replay.html import render_html
from proxy.replay.replayer import Outcome
from proxy.replay.report import render_text, report_to_json, summarise

OP = "ffr.score"


def _compared(compared: int = 5, *differences: Difference) -> Comparison:
    return Comparison(OP, compared, tuple(differences), min_compared=3)


SCORE = Difference("Score", "tolerance", "ffr.resp.score", 20, 40, delta=20.0)


def _outcomes(*kinds: str) -> list[Outcome]:
    made = []
    for index, kind in enumerate(kinds, start=1):
        if kind == "matched":
            made.append(Outcome(index, OP, "t", "matched", _compared(), 200, 200))
        elif kind == "mismatched":
            made.append(Outcome(index, OP, "t", "mismatched", _compared(5, SCORE), 200, 200))
        elif kind == "thin":
            made.append(Outcome(index, OP, "t", "matched", _compared(1), 200, 200, thin=True))
        elif kind == "failed":
            made.append(Outcome(index, OP, "t", "failed", None, 200, reason="timeout"))
        else:
            made.append(Outcome(index, OP, "t", "skipped", reason="no id"))
    return made


VERDICTS: list[tuple[tuple[str, ...], float, list[str]]] = [
    (("matched", "matched"), 0.0, []),
    (("matched", "mismatched"), 0.0, ["mismatch rate 50.00% exceeds the maximum 0.00%"]),
    (("matched", "mismatched"), 0.5, []),
    (("matched", "failed"), 0.0, ["mismatch rate 50.00% exceeds the maximum 0.00%"]),
    (("matched", "thin"), 1.0, ["1 comparison(s) covered fewer fields than declared (thin)"]),
    (("skipped",), 1.0, ["no exchange was replayed"]),
    ((), 1.0, ["no exchange was replayed"]),
    (("matched", "skipped"), 0.0, []),
]


@pytest.mark.parametrize(("kinds", "max_rate", "failures"), VERDICTS)
def test_the_verdict(kinds: tuple[str, ...], max_rate: float, failures: list[str]) -> None:
    report = summarise(_outcomes(*kinds), corpus="c", target="simulator", max_mismatch_rate=max_rate)
    assert list(report.failures) == failures
    assert report.passed is (not failures)


def test_differences_are_grouped_by_field_and_rule_with_a_first_example() -> None:
    report = summarise(_outcomes("matched", "mismatched", "mismatched", "skipped"), corpus="c", target="s")
    (summary,) = report.operations
    assert (summary.replayed, summary.matched, summary.mismatched, summary.skipped) == (3, 1, 2, 1)
    assert summary.compared == 15
    (field,) = report.fields
    assert (field.field, field.rule, field.count, field.first_exchange) == ("Score", "ffr.resp.score", 2, 2)
    assert report.rules_behind_differences() == {"ffr.resp.score"}
    assert report.skipped_reasons == {"no id": 1}


def test_renderings_name_the_rule_and_the_verdict() -> None:
    report = summarise(_outcomes("matched", "mismatched"), corpus="c.jsonl", target="simulator")
    text = render_text(report)
    assert "ffr.resp.score" in text
    assert "FAIL: mismatch rate 50.00%" in text
    data: dict[str, Any] = report_to_json(report)
    assert data["passed"] is False
    assert data["totals"]["mismatched"] == 1
    assert data["fields"][0]["rule"] == "ffr.resp.score"
    assert data["exchanges"][1]["comparison"]["differences"][0]["rule"] == "ffr.resp.score"
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "ffr.resp.score" in page
    assert "<script" not in page
    assert "http" not in page.replace("http://www.w3.org", "")  # no external asset


def test_html_escapes_what_it_shows() -> None:
    odd = Difference("Reports.Negative[]", "missing", None, "<b>x</b>", None, item="<i>")
    outcome = Outcome(1, OP, "t", "mismatched", _compared(5, odd), 200, 200)
    page = render_html(summarise([outcome], corpus="<c>", target="s"))
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
