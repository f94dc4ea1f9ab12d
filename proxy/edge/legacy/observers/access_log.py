"""The access line (and, with tracing on, the request span's name and attributes)."""

from __future__ import annotations

from proxy.edge.legacy.outcome import Outcome
from proxy.http.reply import Reply
from proxy.observability.access import AccessEntry, record_access

__all__ = ["AccessLog"]


class AccessLog:
    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None:
        answer = outcome.answer
        record_access(
            AccessEntry(
                outcome.method,
                outcome.template,
                reply.status,
                elapsed_s * 1000,
                outcome.tenant,
                outcome.product,
                outcome.operation,
                outcome.stage_label,
                outcome.side,
                answer.elapsed_ms if answer else None,
                outcome.request_bytes,
                len(reply.body),
                outcome.client,
                outcome.request_id,
            )
        )
