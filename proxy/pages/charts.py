"""Geometry of the inline SVG charts, computed here and drawn by ``templates/_charts.html``. Pure.

Charts are drawn server-side so the reports need no script (they are e-mailed) and
the cockpit needs no chart library (it runs offline, under a strict CSP). Colours are
classes of the shared stylesheet, never inline ``style`` attributes, which the
cockpit's policy would block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["Bar", "Matrix", "Scatter", "Sparkline", "bars", "matrix", "scatter", "sparkline"]

_MAX_DOTS: Final = 5000
_SHADES: Final = 5


@dataclass(frozen=True, slots=True)
class Sparkline:
    width: int
    height: int
    points: str  # SVG polyline points, "x,y x,y"
    last: tuple[float, float] | None


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 28) -> Sparkline:
    """A 0-1 series (days without data skipped) as a polyline; the last point marked."""
    pad = 3
    count = len(values)
    placed: list[tuple[float, float]] = []
    for index, value in enumerate(values):
        if value is None:
            continue
        x = pad + (index / (count - 1) if count > 1 else 0.5) * (width - 2 * pad)
        y = pad + (1 - max(0.0, min(1.0, value))) * (height - 2 * pad)
        placed.append((round(x, 1), round(y, 1)))
    return Sparkline(width, height, " ".join(f"{x},{y}" for x, y in placed), placed[-1] if placed else None)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    y: int
    x: int  # where the bar starts; its label ends 6 px before
    length: float


def bars(items: Sequence[tuple[str, float]], *, width: int = 460) -> list[Bar]:
    """Horizontal bars scaled to the largest value; each row 22 px high.

    The label column is as wide as the longest label needs (about 6.5 px a character
    at 11 px), so "datatrust.transaction.create" is not cut at the left edge.
    """
    if not items:
        return []
    longest = max(len(label) for label, _ in items)
    label_width = min(240, max(50, int(longest * 6.5) + 10))
    top = max(value for _, value in items) or 1.0
    room = width - label_width - 60
    return [
        Bar(label, value, index * 22, label_width, round(max(1.0, value / top * room), 1))
        for index, (label, value) in enumerate(items)
    ]


@dataclass(frozen=True, slots=True)
class Scatter:
    size: int
    pad: int
    span: int
    dots: list[tuple[float, float]]


def scatter(pairs: Sequence[tuple[float, float]], *, size: int = 300) -> Scatter:
    """Legacy score across, PDT score up, both 0-100; at most 5,000 dots (the page stays light)."""
    pad = 30
    span = size - 2 * pad

    def place(value: float) -> float:
        return round(pad + max(0.0, min(100.0, value)) / 100 * span, 1)

    return Scatter(
        size, pad, span, [(place(legacy), round(size - place(pdt), 1)) for legacy, pdt in pairs[:_MAX_DOTS]]
    )


@dataclass(frozen=True, slots=True)
class Matrix:
    labels: list[str]
    # rows[legacy] = [(count, css class), ...] in ``labels`` order
    rows: list[tuple[str, list[tuple[int, str]]]]


def matrix(counts: Mapping[str, Mapping[str, int]]) -> Matrix:
    """Legacy label x PDT label; cells shaded in 5 steps, agreement blue and disagreement red."""
    labels = sorted({label for row in counts.values() for label in row} | set(counts))
    top = max((count for row in counts.values() for count in row.values()), default=1) or 1
    rows = []
    for legacy in labels:
        cells = []
        for pdt in labels:
            count = counts.get(legacy, {}).get(pdt, 0)
            shade = 0 if not count else 1 + min(_SHADES - 1, int(count / top * _SHADES))
            tone = "agree" if legacy == pdt else "differ"
            cells.append((count, f"m-{tone}-{shade}" if shade else "m-none"))
        rows.append((legacy, cells))
    return Matrix(labels, rows)
