"""Per tenant: whether anything still reaches the legacy backend before it is switched off."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.observability.metrics import Metrics
from proxy.stages.legacy_traffic import LegacyTraffic

__all__ = ["LegacyTrafficObserver"]


class LegacyTrafficObserver:
    def __init__(self, traffic: LegacyTraffic, metrics: Metrics) -> None:
        self._traffic = traffic
        self._metrics = metrics

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer = outcome.answer
        if answer is not None and answer.side == "legacy" and answer.error is None:
            self._metrics.observe_legacy_call(tenant=outcome.tenant, product=outcome.product)
            self._traffic.record(outcome.tenant, outcome.product)
