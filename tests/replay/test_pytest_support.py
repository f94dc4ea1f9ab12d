"""The CI entry point as a project uses it: a plain (synchronous) pytest test."""

from __future__ import annotations

import io

import pytest

from proxy.replay.commands import Progress
from proxy.replay.pytest_support import replay_corpus
from tests.recording.support import SAMPLE


def test_recorded_traffic_still_translates() -> None:
    result = replay_corpus(SAMPLE)
    assert result.passed, result.text
    assert result.rules == frozenset()


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


PROGRESS = [
    # (terminal?, total, what is written)
    (False, 20, [f"replayed {n}/20 ({5 * n}%)\n" for n in (1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]),
    (True, 2, ["\rreplayed 1/2 (50%)", "\rreplayed 2/2 (100%)\n"]),
]


@pytest.mark.parametrize(("tty", "total", "expected"), PROGRESS)
def test_progress_is_a_counter_in_place_or_a_line_per_tenth(
    tty: bool, total: int, expected: list[str]
) -> None:
    stream = _Stream(tty)
    progress = Progress(stream)
    for done in range(1, total + 1):
        progress(done, total)
    assert stream.getvalue() == "".join(expected)
