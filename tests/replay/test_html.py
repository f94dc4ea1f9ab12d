"""proxy.replay.html: JSON values, a link from each field to its exchange, and why replay differs."""

from __future__ import annotations

import re

import pytest

from proxy.comparison.engine import Comparison, Difference
from proxy.replay.html import render_html
from proxy.replay.replayer import Outcome
from proxy.replay.report import summarise

OP = "ffr.score"


def _outcome(index: int, *differences: Difference, kind: str = "mismatched") -> Outcome:
    return Outcome(index, OP, "t", kind, Comparison(OP, 5, differences, min_compared=3), 200, 200)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("legacy", "replayed", "shown", "not_shown"),
    [
        (None, "Low", ["null", "&#34;Low&#34;"], ["None", "&#39;Low&#39;"]),
        (True, False, ["true", "false"], ["True", "False"]),
        (
            {"Code": "FFR1"},
            ["a", 1],
            ["{&#34;Code&#34;:&#34;FFR1&#34;}", "[&#34;a&#34;,1]"],
            ["{&#39;Code&#39;"],
        ),
    ],
)
def test_values_are_json_not_python_reprs(
    legacy: object, replayed: object, shown: list[str], not_shown: list[str]
) -> None:
    difference = Difference("Reports.Negative[]", "value", "ffr.resp.negative", legacy, replayed)
    page = render_html(summarise([_outcome(1, difference)], corpus="c.jsonl", target="simulator"))
    for text in shown:
        assert text in page
    for text in not_shown:
        assert text not in page


def test_each_mismatch_links_to_its_exchange() -> None:
    score = Difference("Score", "tolerance", "ffr.resp.score", 20, 40, delta=20.0)
    outcomes = [
        _outcome(1, kind="matched"),
        _outcome(2, score),
        _outcome(3, score),
        Outcome(4, OP, "t", "failed", None, 200, reason="timeout"),
    ]
    page = render_html(summarise(outcomes, corpus="c.jsonl", target="simulator"), locale="en")
    assert '<a href="#exchange-2">Exchange #2</a>' in page
    anchors = set(re.findall(r'<section id="exchange-(\d+)"', page))
    assert anchors == {"2", "3", "4"}  # every mismatched or unanswered exchange, not the matched one
    assert "timeout" in page


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [("pt_BR", "pessoas pseudonimizadas"), ("en", "people pseudonymised")],
)
def test_the_page_says_why_replay_and_backtest_agreement_differ(locale: str, sentence: str) -> None:
    page = render_html(summarise([_outcome(1, kind="matched")], corpus="c", target="s"), locale=locale)
    assert sentence in page
    assert "<script" not in page
    assert " style=" not in page
