"""Re-asking a built-in legacy simulator for the masked request, so a corpus stays coherent.

A recorded legacy answer is about the real person; the corpus keeps only the
request's pseudonym (another valid CPF). Replayed, that pseudonym is a different
person to PDT, so scores, ratings and insights would differ for reasons that have
nothing to do with the mappings. When the legacy backend is the built-in legacy
simulator (laptops, CI, demos), the recorder asks it again, this time for the
masked request, and records that answer instead: the corpus then pairs each
masked request with the legacy answer for that very request, and a replay
against the simulators measures the mappings alone.

A real legacy backend is never re-asked: that would be a second, billable call
under the tenant's name. Corpora from real backends compare statuses and shapes
reliably; their person-dependent values differ by construction (docs/replay.md).

Reads and token calls by transaction id follow their create: the id the real
answer carried maps to the id the re-asked answer carried. One whose create was
not recorded (or not re-asked) is written as not replayable.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson

from proxy.recording.routing import with_transaction_id
from proxy.stages.dispatch import Answer, Exchange
from proxy.state.corpus import CorpusEntry, RecordedBody

__all__ = ["ReAsk", "Reanswerer"]

# Given the exchange with its masked body and path, the legacy side's answer for it.
ReAsk = Callable[[Exchange], Awaitable[Answer]]
_MAX_IDS = 100_000


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _id_field(exchange: Exchange) -> str | None:
    """The top-level answer field a create's rules fill from PDT's transaction id."""
    for rule in exchange.operation.spec.response.rules:
        if rule.source == "transaction.id" and "." not in rule.to:
            return rule.to
    return None


class Reanswerer:
    def __init__(self, ask: ReAsk) -> None:
        self._ask = ask
        self._ids: OrderedDict[str, str] = OrderedDict()

    async def entry_for(self, exchange: Exchange, original: Answer, entry: CorpusEntry) -> CorpusEntry:
        """``entry`` with the simulator's answer to its masked request (or marked not replayable)."""
        if not entry.replayable:
            return entry
        path = entry.path
        if exchange.transaction_id is not None:
            known = self._ids.get(exchange.transaction_id)
            if known is None:
                return replace(entry, replayable=False)
            path = with_transaction_id(path, exchange.transaction_id, known)
        body = entry.request_body
        content = orjson.dumps(body.data) if body.data is not None else (body.text or "").encode()
        masked = replace(exchange, request=replace(exchange.request, body=content, path=path))
        answer = await self._ask(masked)
        if answer.error is not None:
            return replace(entry, replayable=False)
        data = _json(answer.body)
        self._learn(exchange, original, data)
        recorded = RecordedBody(data=data) if data is not None else RecordedBody(text=answer.body.decode())
        return replace(
            entry,
            path=path,
            status=answer.status,
            response_body=recorded,
            response_content_type=answer.content_type,
        )

    def _learn(self, exchange: Exchange, original: Answer, data: Any) -> None:
        field = _id_field(exchange) if exchange.transaction_id is None else None
        if field is None or not isinstance(data, dict):
            return
        before, after = _json(original.body), data.get(field)
        if isinstance(before, dict) and isinstance(before.get(field), str) and isinstance(after, str):
            self._ids[before[field]] = after
            if len(self._ids) > _MAX_IDS:
                self._ids.popitem(last=False)
