"""A replay report as one self-contained HTML page: inline CSS, no script, no external asset.

Every value shown comes from the report, whose difference values were masked by the
comparison engine: the page holds no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from proxy.replay.report import ReplayReport

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2733}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dbe3}
.verdict{padding:1rem 1.2rem;border-radius:8px;margin:1rem 0}.pass{background:#e3f5e8;
border:1px solid #6cbf84}.fail{background:#fdecea;border:1px solid #e08a80}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.3rem .6rem;border:1px solid #d5dbe3;
text-align:right}th{background:#f3f5f8}td.l,th.l{text-align:left}code{font-size:.9em}.muted{color:#5b6877}
"""


def _cell(value: Any, *, left: bool = False) -> str:
    css = ' class="l"' if left else ""
    return f"<td{css}>{escape(str(value))}</td>"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> str:
    head = "".join(f'<th class="l">{escape(h)}</th>' if i < left else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(header))  # fmt: skip
    body = "".join(
        "<tr>" + "".join(_cell(value, left=i < left) for i, value in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: ReplayReport) -> str:
    verdict = (
        '<div class="verdict pass"><strong>PASS</strong>: the translated answers agree with the '
        "recorded legacy answers within the declared rules.</div>"
        if report.passed
        else '<div class="verdict fail"><strong>FAIL</strong><ul>'
        + "".join(f"<li>{escape(reason)}</li>" for reason in report.failures)
        + "</ul></div>"
    )
    operations = _table(
        ("operation", "replayed", "matched", "mismatched", "no answer", "skipped", "thin", "fields compared"),
        [
            (s.operation, s.replayed, s.matched, s.mismatched, s.failed, s.skipped, s.thin, s.compared)
            for s in report.operations
        ],
    )
    fields = (
        _table(
            ("operation", "field", "mapping rule", "kinds", "first exchange", "legacy", "replayed", "count"),
            [
                (
                    f.operation,
                    f.field + (f" (e.g. {f.example_item})" if f.example_item else ""),
                    f.rule or "(no rule)",
                    ", ".join(sorted(f.kinds)),
                    f"#{f.first_exchange}",
                    f.example_legacy,
                    f.example_replayed,
                    f.count,
                )
                for f in report.fields
            ],
            left=7,
        )
        if report.fields
        else '<p class="muted">No differences.</p>'
    )
    skipped = (
        _table(("reason", "exchanges"), list(report.skipped_reasons.items()))
        if report.skipped_reasons
        else '<p class="muted">Nothing skipped.</p>'
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Replay of {escape(report.corpus)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Replay of <code>{escape(report.corpus)}</code></h1>"
        f'<p class="muted">Target: {escape(report.target)}. {report.entries} exchanges, '
        f"{report.replayed} replayed, {report.skipped} skipped; mismatch rate "
        f"{report.mismatch_rate:.2%} (maximum {report.max_mismatch_rate:.2%}); "
        f"{report.compared} fields compared.</p>{verdict}"
        f"<h2>Per operation</h2>{operations}"
        "<h2>Differences by field</h2><p class=muted>Each row is one field of one operation and the "
        f"mapping rule that produced it; the example is the first exchange where it differed.</p>{fields}"
        f"<h2>Skipped</h2>{skipped}</body></html>\n"
    )
