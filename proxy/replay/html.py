"""A replay report as one self-contained HTML page: the shared stylesheet inlined, no script.

Values are shown as JSON (``null``, ``"Low"``), never Python reprs; every field row
links to the first exchange where it differed, and every mismatched exchange has its
own section. The page says why replay agreement is not backtest agreement: replay
re-asks PDT about pseudonymised people. Every value shown comes from the report,
whose difference values were masked by the comparison engine.
"""

from __future__ import annotations

from proxy.pages.i18n import translator
from proxy.pages.templates import render, stylesheet
from proxy.replay.report import ReplayReport

__all__ = ["render_html"]


def render_html(report: ReplayReport, *, locale: str = "en") -> str:
    # English by default: the replay is the engineers' and CI's report, not a bank's.
    mismatches = [outcome for outcome in report.outcomes if outcome.kind in ("mismatched", "failed")]
    return render(
        "replay_report.html", t=translator(locale), css=stylesheet(), report=report, mismatches=mismatches
    )
