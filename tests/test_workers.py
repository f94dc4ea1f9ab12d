"""proxy.workers: which workers the supervisor lost in one step of its loop.

The supervisor itself runs in tests/observability/test_metrics_workers.py, as a real
``serve --workers 2``.
"""

from __future__ import annotations

import pytest

from proxy.workers import departed


@pytest.mark.parametrize(
    ("before", "after", "gone"),
    [
        ({10, 11}, {10, 11}, set()),
        ({10, 11}, {10, 12}, {11}),  # one died and was replaced
        ({10, 11}, {12, 13}, {10, 11}),  # SIGHUP: every worker replaced
        ({10, 11, 12}, {10, 11}, {12}),  # SIGTTOU: one fewer
        ({10}, {10, 11}, set()),  # SIGTTIN: one more, nobody lost
        (set(), set(), set()),
    ],
    ids=["steady", "replaced", "restart-all", "fewer", "more", "none"],
)
def test_departed(before: set[int], after: set[int], gone: set[int]) -> None:
    assert departed(before, after) == gone
