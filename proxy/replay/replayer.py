"""Replay a corpus: each recorded legacy request through the proxy's PDT path, each
translated answer compared with the recorded legacy answer (``mappings/compare.yaml``).

Entries are replayed in corpus order, one at a time, because later requests may
name a transaction an earlier one created: the legacy id the recorded answer
carried (a field ``compare.yaml`` ignores, such as ``transactionId``) is mapped to
the id the replayed answer carries, and a later request by that id is sent with
the new one. A request by an id no replayed answer produced is skipped, as is an
entry recorded without a secret it needed (``replayable: false``).

The outcome of each entry is data (``Outcome``); ``proxy.replay.report`` sums them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from proxy.comparison.engine import Comparison, compare_answers
from proxy.comparison.rules import CompareRules, OperationRules
from proxy.mapping.catalog import MappingCatalog
from proxy.recording.routing import resolve_route, with_transaction_id
from proxy.replay.targets import ReplayTarget, TargetFailed
from proxy.state.corpus import CorpusEntry

__all__ = ["Outcome", "OutcomeKind", "Progress", "replay_entries"]

OutcomeKind = Literal["matched", "mismatched", "skipped", "failed"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    index: int  # 1-based position in the corpus
    operation: str
    tenant: str
    kind: OutcomeKind
    comparison: Comparison | None = None
    legacy_status: int | None = None
    replay_status: int | None = None
    reason: str | None = None
    thin: bool = False


def _ok(status: int) -> bool:
    return 200 <= status < 300


def _learn_ids(rules: OperationRules, legacy: Any, replayed: Any, ids: dict[str, str]) -> None:
    """Legacy id -> replayed id, for every top-level ignored string field both answers hold."""
    if not isinstance(legacy, dict) or not isinstance(replayed, dict):
        return
    for name in rules.ignore:
        old, new = legacy.get(name), replayed.get(name)
        if isinstance(old, str) and isinstance(new, str) and old:
            ids[old] = new


def _with_floor(rules: OperationRules, min_compared: int | None) -> OperationRules:
    if min_compared is None or min_compared <= rules.min_compared:
        return rules
    return replace(rules, min_compared=min_compared)


async def replay_entries(
    entries: Sequence[CorpusEntry],
    target: ReplayTarget,
    catalog: MappingCatalog,
    rules: CompareRules,
    *,
    min_compared: int | None = None,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Replay ``entries`` in order against ``target``; one ``Outcome`` per entry.

    ``min_compared`` raises (never lowers) every operation's declared least number
    of compared fields. A comparison of two successful answers below it is thin.
    """
    ids: dict[str, str] = {}
    outcomes: list[Outcome] = []
    total = len(entries)
    for index, entry in enumerate(entries, start=1):
        outcomes.append(await _one(index, entry, target, catalog, rules, ids, min_compared))
        if progress is not None:
            progress(index, total)
    return outcomes


async def _one(
    index: int,
    entry: CorpusEntry,
    target: ReplayTarget,
    catalog: MappingCatalog,
    rules: CompareRules,
    ids: dict[str, str],
    min_compared: int | None,
) -> Outcome:
    def skipped(reason: str) -> Outcome:
        return Outcome(
            index, entry.operation, entry.tenant, "skipped", legacy_status=entry.status, reason=reason
        )

    if not entry.replayable:
        return skipped("recorded without the secret or one-time code it carried")
    try:
        route = resolve_route(catalog, entry.product, entry.operation, entry.environment, entry.path)
        operation_rules = _with_floor(rules.for_operation(entry.operation), min_compared)
    except (LookupError, KeyError) as error:
        return skipped(str(error).strip("'\""))
    path = entry.path
    if route.transaction_id is not None:
        new_id = ids.get(route.transaction_id)
        if new_id is None:
            return skipped("its transaction was not created earlier in this replay")
        path = with_transaction_id(path, route.transaction_id, new_id)
        route = replace(route, transaction_id=new_id)
    try:
        reply = await target.send(entry, route, path, f"replay-{index}")
    except TargetFailed as error:
        return Outcome(
            index, entry.operation, entry.tenant, "failed", legacy_status=entry.status, reason=str(error)
        )
    legacy_body = entry.response_body.data
    comparison = compare_answers(operation_rules, entry.status, legacy_body, reply.status, reply.body)
    if _ok(entry.status) and _ok(reply.status):
        _learn_ids(operation_rules, legacy_body, reply.body, ids)
    thin = comparison.thin and _ok(entry.status) and _ok(reply.status)
    return Outcome(
        index,
        entry.operation,
        entry.tenant,
        "matched" if comparison.matched else "mismatched",
        comparison,
        entry.status,
        reply.status,
        thin=thin,
    )
