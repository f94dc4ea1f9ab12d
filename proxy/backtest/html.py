"""A backtest as one self-contained HTML page: inline CSS and SVG, no script, no external asset.

Something an account manager can attach to an e-mail to a bank: every figure is
explained in a sentence, every chart is drawn server-side, and nothing in it can
carry personal data (shadow results are masked before they are stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from proxy.backtest.report import Backtest, Check, LatencySummary

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:960px;color:#1d2733}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dbe3}
.muted{color:#5b6877}.verdict{padding:1rem 1.2rem;border-radius:8px;font-size:1.1rem;margin:1rem 0}
.ready{background:#e3f5e8;border:1px solid #6cbf84}.not-ready{background:#fdecea;border:1px solid #e08a80}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.3rem .6rem;border:1px solid #d5dbe3;text-align:right}
th{background:#f3f5f8}td.l,th.l{text-align:left}.pass{color:#1e7a3a}.fail{color:#b3261e;font-weight:600}
.grid{display:flex;gap:2rem;flex-wrap:wrap}.card{flex:1;min-width:260px}
"""


def _number(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _scatter(pairs: Sequence[tuple[float, float]], size: int = 300) -> str:
    if not pairs:
        return '<p class="muted">No scores compared.</p>'
    pad = 30
    span = size - 2 * pad

    def place(value: float) -> float:
        return pad + max(0.0, min(100.0, value)) / 100 * span

    dots = "".join(
        f'<circle cx="{place(legacy):.1f}" cy="{size - place(pdt):.1f}" r="2.5" '
        'fill="#2f6fb3" fill-opacity=".55"/>'
        for legacy, pdt in pairs[:5000]
    )
    return (
        f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
        'aria-label="Score agreement scatter">'
        f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="#fafbfc" stroke="#c4ccd6"/>'
        f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" '
        'stroke="#9aa6b2" stroke-dasharray="4 3"/>'
        f"{dots}"
        f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">legacy score (0-100)</text>'
        f'<text x="10" y="{size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 10 {size / 2})">PDT score (0-100)</text></svg>'
    )


def _bars(items: Sequence[tuple[str, float]], *, width: int = 420, unit: str = "") -> str:
    if not items:
        return '<p class="muted">No data.</p>'
    top = max(value for _, value in items) or 1.0
    row = 22
    height = row * len(items) + 6
    label_width = 120
    bars = "".join(
        f'<text x="{label_width - 6}" y="{i * row + 16}" font-size="11" '
        f'text-anchor="end">{escape(label)}</text>'
        f'<rect x="{label_width}" y="{i * row + 4}" height="14" '
        f'width="{max(1.0, value / top * (width - label_width - 60)):.1f}" fill="#2f6fb3"/>'
        f'<text x="{label_width + value / top * (width - label_width - 60) + 6:.1f}" y="{i * row + 16}" '
        f'font-size="11">{value:g}{escape(unit)}</text>'
        for i, (label, value) in enumerate(items)
    )
    return f'<svg width="{width}" height="{height}" role="img">{bars}</svg>'


def _matrix(matrix: dict[str, dict[str, int]]) -> str:
    if not matrix:
        return '<p class="muted">No ratings compared.</p>'
    columns = sorted({label for row in matrix.values() for label in row} | set(matrix))
    top = max((count for row in matrix.values() for count in row.values()), default=1)
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    rows = []
    for legacy in columns:
        cells = []
        for pdt in columns:
            count = matrix.get(legacy, {}).get(pdt, 0)
            shade = 0.08 + 0.6 * count / top if count else 0
            color = "47,111,179" if legacy == pdt else "179,38,30"
            cells.append(f'<td style="background:rgba({color},{shade:.2f})">{count}</td>')
        rows.append(f'<tr><th class="l">{escape(legacy)}</th>{"".join(cells)}</tr>')
    return f'<table><tr><th class="l">legacy \\ PDT</th>{head}</tr>{"".join(rows)}</table>'


def _latency_rows(legacy: LatencySummary, pdt: LatencySummary) -> str:
    def row(name: str, summary: LatencySummary) -> str:
        cells = "".join(
            f"<td>{_number(value, 1, ' ms')}</td>"
            for value in (summary.p50_ms, summary.p95_ms, summary.p99_ms)
        )
        return f'<tr><td class="l">{name}</td><td>{summary.samples}</td>{cells}</tr>'

    return (
        '<table><tr><th class="l">side</th><th>answers</th><th>p50</th><th>p95</th><th>p99</th></tr>'
        f"{row('legacy backend', legacy)}{row('PDT (through the proxy)', pdt)}</table>"
    )


# Criteria that are counts or amounts, not shares: shown as numbers, not percentages.
_COUNTS = frozenset({"samples", "pdt_p95_ms", "hours", "distinct_days"})


def _check_rows(checks: Sequence[Check]) -> str:
    def shown(check: Check) -> str:
        if check.name == "hours":
            return _number(check.value, 1, " h")
        rate = check.name not in _COUNTS
        return _percent(check.value) if rate else _number(check.value, 0)

    def threshold(check: Check) -> str:
        rate = check.name not in _COUNTS
        unit = " h" if check.name == "hours" else ""
        return _percent(check.threshold) if rate else f"{check.threshold:g}{unit}"

    rows = "".join(
        f'<tr><td class="l">{escape(check.name.replace("_", " "))}</td><td>{shown(check)}</td>'
        f"<td>{check.comparison} {threshold(check)}</td>"
        f'<td class="{"pass" if check.passed else "fail"}">{"pass" if check.passed else "FAIL"}</td></tr>'
        for check in checks
    )
    head = '<tr><th class="l">criterion</th><th>measured</th><th>required</th><th></th></tr>'
    return f"<table>{head}{rows}</table>"


def render_html(backtest: Backtest, *, title: str | None = None) -> str:
    verdict = "Ready for cut-over to PDT" if backtest.ready else "Not ready for cut-over yet"
    failing = [check.name.replace("_", " ") for check in backtest.checks if not check.passed]
    reason = "every criterion below is met" if backtest.ready else "failing: " + ", ".join(failing)
    differences = "".join(
        f'<tr><td class="l">{escape(item.field)}</td><td class="l">{escape(item.rule or "-")}</td>'
        f'<td class="l">{escape(item.kind)}</td><td>{item.count}</td></tr>'
        for item in backtest.top_differences
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in backtest.notes)
    agreement = "".join(
        f'<tr><td class="l">{escape(row.field)}</td><td class="l">{escape(row.rule or "-")}</td>'
        f"<td>{row.compared}</td><td>{_percent(row.agreement)}</td></tr>"
        for row in backtest.field_agreement
    )
    heading = escape(title or f"Backtest: {backtest.tenant}")
    window = f"{backtest.window_from:%Y-%m-%d %H:%M} to {backtest.window_to:%Y-%m-%d %H:%M} UTC"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{heading}</title><style>{_CSS}</style></head>
<body>
<h1>{heading}</h1>
<p class="muted">The client's own traffic, answered by its legacy product and, in parallel, by the
Plataforma Data Trust through the compatibility proxy; both answers compared field by field.
Window: {escape(window)}. Personal data is masked throughout.</p>
<div class="verdict {"ready" if backtest.ready else "not-ready"}">
<strong>{verdict}</strong> - {escape(reason)}.</div>
{_check_rows(backtest.checks)}
<h2>Answers compared</h2>
<p>{backtest.samples} requests compared ({backtest.compared_fields} fields in all);
{backtest.matched} agreed on every field ({_percent(backtest.match_rate)}); status codes agreed in
{_percent(backtest.status_agreement)}. The samples span {_number(backtest.hours, 1)} hours over
{backtest.distinct_days} distinct days (UTC).</p>
{_bars([(name, float(count)) for name, count in backtest.by_operation.items()])}
<div class="grid">
<div class="card"><h2>Score agreement</h2>
<p>Each dot is one request: legacy score across, PDT score up; on the dashed line they agree.
{_percent(backtest.score_agreement)} within tolerance;
mean absolute gap {_number(backtest.score_mean_abs_delta, 2)} points.</p>
{_scatter(backtest.score_pairs)}</div>
<div class="card"><h2>Score gap (PDT minus legacy)</h2>
{_bars([(label, float(count)) for label, count in backtest.score_delta_histogram.items()])}</div>
</div>
<h2>Rating agreement</h2>
<p>Rows: the legacy label; columns: the label PDT's rating maps to. The diagonal is agreement
({_percent(backtest.rating_agreement)}).</p>
{_matrix(backtest.rating_matrix)}
<h2>Insight overlap</h2>
<p>Mean overlap between the two answers' insight sets (shared codes over all codes):
<strong>{_percent(backtest.insight_overlap)}</strong>.</p>
<h2>Latency</h2>
{_latency_rows(backtest.legacy_latency, backtest.pdt_latency)}
<p>PDT failed where the legacy backend answered in {_percent(backtest.pdt_error_rate)} of requests.</p>
<h2>Agreement per field</h2>
<p>Each field of the legacy answer, how often it was compared and how often the two
answers agreed on it, with the DE-PARA rule that produces it.</p>
<table><tr><th class="l">field</th><th class="l">mapping rule</th><th>compared</th><th>agreed</th></tr>
{agreement}</table>
<h2>Where the answers differ</h2>
<p>The fields that differed most often, with the DE-PARA rule that produced each.</p>
<table><tr><th class="l">field</th><th class="l">mapping rule</th><th class="l">kind</th><th>count</th></tr>
{differences}</table>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""
