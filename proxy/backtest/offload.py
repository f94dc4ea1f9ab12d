"""The backtest aggregated off the event loop, for callers inside a serving process.

``build_backtest`` is pure Python over every sample of the window: percentiles
sort every latency, and each comparison's fields, pairs and sets are walked. A
month of a busy tenant is tens of thousands of samples, hundreds of
milliseconds of CPU, and on the loop that is hundreds of milliseconds in which
no legacy answer is sent. On a worker thread the loop keeps running (it takes
the GIL back at every switch interval, 5 ms by default). The report is the same
function's, so its output is identical.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from proxy.backtest.report import Backtest, build_backtest
from proxy.comparison.rules import CompareRules
from proxy.state.records import ShadowResult

__all__ = ["backtest_off_loop"]


async def backtest_off_loop(
    tenant: str,
    results: Iterable[ShadowResult],
    rules: CompareRules,
    *,
    window_from: datetime,
    window_to: datetime,
    top: int = 15,
) -> Backtest:
    """``build_backtest(...)``, computed on a worker thread."""
    return await asyncio.to_thread(
        build_backtest, tenant, results, rules, window_from=window_from, window_to=window_to, top=top
    )
