"""Metering: the answer leaves only once its usage record is durable.

Not an observer like the others: it runs before the reply is sent, because a
would-be success whose record cannot be made durable becomes the family's 503
(an unbilled success is the one outcome metering must not allow). An error answer
bills nothing and is sent as it is; a request refused before authentication has no
tenant to bill and no record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from proxy.edge.legacy.outcome import NO_TENANT, Outcome
from proxy.errors import ProxyError
from proxy.http.errors import error_reply
from proxy.http.reply import Reply
from proxy.ledger.ledger import LedgerService
from proxy.ledger.record import LedgerRecord
from proxy.mapping.error_table import ErrorTable

__all__ = ["LedgerGate"]


class LedgerGate:
    def __init__(self, ledger: LedgerService, *, clock: Callable[[], datetime]) -> None:
        self._ledger = ledger
        self._clock = clock

    async def settle(self, outcome: Outcome, reply: Reply, errors: ErrorTable) -> Reply:
        """``reply``, or the family's error for an unrecordable success."""
        if outcome.tenant == NO_TENANT:
            return reply
        answer = outcome.answer
        try:
            await self._ledger.record(
                LedgerRecord(
                    at=self._clock(),
                    tenant=outcome.tenant,
                    product=outcome.product,
                    operation=outcome.operation,
                    stage=outcome.stage_label,
                    side=outcome.side,
                    pdt_transaction_id=answer.transaction_id if answer else None,
                    modules=answer.modules if answer else (),
                    status=reply.status,
                    latency_ms=(time.perf_counter() - outcome.started) * 1000,
                    request_id=outcome.request_id,
                    fallback=answer.fallback if answer else None,
                )
            )
        except ProxyError as error:
            if reply.status < 400:
                return error_reply(errors, error, request_id=outcome.request_id)
        return reply
