"""Request metrics: one observation per answered request, and the fallback counter."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.observability.metrics import Metrics

__all__ = ["MetricsObserver"]


class MetricsObserver:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer = outcome.answer
        if answer is not None and answer.fallback is not None:
            self._metrics.count_fallback(
                tenant=outcome.tenant, product=outcome.product, cause=answer.fallback
            )
        self._metrics.observe_request(
            tenant=outcome.tenant,
            product=outcome.product,
            operation=outcome.operation,
            stage=outcome.stage_label,
            side=outcome.side,
            status=reply.status,
            duration_s=elapsed_s,
        )
