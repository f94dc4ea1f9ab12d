"""One warning per upstream failure the client was answered for (the access line has no cause)."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.observability.logging import get_logger

__all__ = ["UpstreamFailureLog"]

_log = get_logger(__name__)


class UpstreamFailureLog:
    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer = outcome.answer
        if answer is not None and answer.status >= 500 and answer.error is not None:
            _log.warning(
                "upstream failure",
                request_id=outcome.request_id,
                side=answer.side,
                error=type(answer.error).__name__,
                detail=str(answer.error),
            )
