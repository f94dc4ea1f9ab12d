"""The shadow stage: a sample of legacy answers gets its PDT side run and compared, off the request."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.stages.shadow import ShadowRunner

__all__ = ["ShadowObserver"]


class ShadowObserver:
    def __init__(self, shadow: ShadowRunner) -> None:
        self._shadow = shadow

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer, stage, exchange = outcome.answer, outcome.stage, outcome.exchange
        if answer is None or stage is None or exchange is None:
            return
        if stage.name == "shadow" and answer.error is None:
            self._shadow.offer(exchange, answer)
