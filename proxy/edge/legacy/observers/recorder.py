"""Sampled, masked legacy exchanges, for replaying mapping changes against real traffic shapes."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.recording.recorder import Recorder

__all__ = ["RecorderObserver"]


class RecorderObserver:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer, exchange = outcome.answer, outcome.exchange
        if answer is not None and exchange is not None and answer.side == "legacy":
            self._recorder.offer(exchange, answer)
