"""proxy.backtest.offload: the same report, aggregated on a worker thread, not the loop's."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from proxy.backtest.offload import backtest_off_loop
from proxy.backtest.report import build_backtest
from proxy.state.records import ShadowResult

from .support import AT, RULES, dt_answer, result


class WatchedResults:
    """Shadow results that note which thread walks them (the aggregation does)."""

    def __init__(self, results: list[ShadowResult]) -> None:
        self._results = results
        self.threads: set[int] = set()

    def __iter__(self) -> Iterator[ShadowResult]:
        self.threads.add(threading.get_ident())
        return iter(self._results)


MIXES = [
    [],
    [result()],
    [result(dt_answer(40.0), dt_answer(44.0, rating="Low"), pdt_ms=80.0), result(pdt_status=503)],
    [result(dt_answer(float(n)), dt_answer(float(n + n % 9)), legacy_ms=float(n)) for n in range(200)],
]


@pytest.mark.parametrize("results", MIXES, ids=["empty", "one", "mixed", "two-hundred"])
async def test_the_report_is_built_off_the_loop_and_is_the_same(results: list[ShadowResult]) -> None:
    watched = WatchedResults(results)
    since, until = AT - timedelta(days=1), AT + timedelta(days=1)
    report = await backtest_off_loop("acme", watched, RULES, window_from=since, window_to=until)
    assert watched.threads, "the results were never aggregated"
    assert threading.get_ident() not in watched.threads
    assert (
        report.to_json()
        == build_backtest("acme", results, RULES, window_from=since, window_to=until).to_json()
    )
