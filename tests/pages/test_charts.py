"""proxy.pages.charts: the SVG geometry is bounded, scaled and classed."""

from __future__ import annotations

import pytest

from proxy.pages.charts import bars, matrix, scatter, sparkline


@pytest.mark.parametrize(
    ("values", "points", "last"),
    [
        ([], "", None),
        ([None, None], "", None),
        ([1.0], "60.0,3.0", (60.0, 3.0)),
        ([0.0, None, 1.0], "3.0,25.0 117.0,3.0", (117.0, 3.0)),
        ([2.0, -1.0], "3.0,3.0 117.0,25.0", (117.0, 25.0)),  # clamped to 0-1
    ],
)
def test_sparkline(values: list[float | None], points: str, last: tuple[float, float] | None) -> None:
    line = sparkline(values)
    assert (line.points, line.last) == (points, last)


def test_bars_scale_to_the_largest_and_leave_room_for_their_labels() -> None:
    drawn = bars([("a", 10.0), ("b", 5.0), ("c", 0.0)])
    assert [bar.length for bar in drawn] == [350.0, 175.0, 1.0]
    assert [bar.y for bar in drawn] == [0, 22, 44]
    assert {bar.x for bar in drawn} == {50}
    (long,) = bars([("datatrust.transaction.create", 3.0)])
    assert long.x == 192  # 28 characters at 6.5 px, plus a margin
    assert bars([]) == []


def test_scatter_places_scores_and_caps_the_dots() -> None:
    chart = scatter([(0.0, 0.0), (100.0, 100.0), (150.0, -5.0)])
    assert chart.dots == [(30.0, 270.0), (270.0, 30.0), (270.0, 270.0)]
    assert len(scatter([(1.0, 1.0)] * 6000).dots) == 5000


def test_matrix_shades_agreement_and_disagreement_apart() -> None:
    drawn = matrix({"High": {"High": 10, "Low": 1}, "Low": {"Low": 5}})
    assert drawn.labels == ["High", "Low"]
    assert drawn.rows == [
        ("High", [(10, "m-agree-5"), (1, "m-differ-1")]),
        ("Low", [(0, "m-none"), (5, "m-agree-3")]),
    ]
