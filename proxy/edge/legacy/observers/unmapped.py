"""PDT codes that reached no legacy code (``UnmappedReporter`` counts and rate-limits the log)."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.edge.unmapped import UnmappedReporter
from proxy.http.reply import Reply

__all__ = ["UnmappedObserver"]


class UnmappedObserver:
    def __init__(self, reporter: UnmappedReporter) -> None:
        self._reporter = reporter

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer = outcome.answer
        if answer is not None and answer.unmapped:
            self._reporter.report(tenant=outcome.tenant, operation=outcome.operation, codes=answer.unmapped)
