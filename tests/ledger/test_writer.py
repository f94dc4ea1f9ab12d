"""Group commit: batching, failure semantics and shutdown, on a controllable store,
then concurrency against the real stores."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from proxy.ledger.errors import LedgerUnavailable
from proxy.ledger.ledger import Ledger
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord
from proxy.ledger.store import LedgerStore
from proxy.ledger.writer import GroupCommitWriter
from tests.ledger.support import make_record


class GatedStore:
    """Commits only when the test opens the gate; remembers every batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.fail_next = 0

    async def open(self) -> None:
        return None

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        self.entered.set()
        await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("disk I/O error")
        self.batches.append([record.request_id for record in records])

    async def close(self) -> None:
        return None


async def _until(predicate: object, *, spins: int = 10_000) -> None:
    """Yield to the loop until ``predicate()`` holds (bounded by steps, not by time)."""
    for _ in range(spins):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def _ids(count: int, start: int = 0) -> list[str]:
    return [f"r{i}" for i in range(start, start + count)]


@pytest.mark.parametrize(
    ("max_batch", "later", "expected"),
    [
        # Classic group commit: all that queued during the first commit is the second.
        (512, 49, [1, 49]),
        (20, 49, [1, 20, 20, 9]),
        (1, 3, [1, 1, 1, 1]),
        (512, 0, [1]),
    ],
)
async def test_records_queued_during_a_commit_share_the_next_one(
    max_batch: int, later: int, expected: list[int]
) -> None:
    store = GatedStore()
    writer = GroupCommitWriter(store, max_batch=max_batch)
    writer.start()
    first = asyncio.create_task(writer.record(make_record(request_id="r0")))
    await store.entered.wait()
    rest = [asyncio.create_task(writer.record(make_record(request_id=rid))) for rid in _ids(later, 1)]
    await _until(lambda: writer.queued == later)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert [len(batch) for batch in store.batches] == expected
    assert [rid for batch in store.batches for rid in batch] == _ids(later + 1)
    assert writer.stats.records == later + 1
    assert writer.stats.largest == max(expected)
    await writer.aclose()


async def test_a_failed_commit_fails_every_waiter_of_its_batch_only() -> None:
    store = GatedStore()
    writer = GroupCommitWriter(store)
    writer.start()
    store.fail_next = 2  # the first batch (r0) and the second (r1..r5) fail
    first = asyncio.create_task(writer.record(make_record(request_id="r0")))
    await store.entered.wait()
    failing = [asyncio.create_task(writer.record(make_record(request_id=rid))) for rid in _ids(5, 1)]
    await _until(lambda: writer.queued == 5)
    store.gate.set()
    results = await asyncio.gather(first, *failing, return_exceptions=True)
    assert all(isinstance(result, LedgerUnavailable) for result in results)
    assert all(result.kind == "upstream_unavailable" for result in results)  # type: ignore[union-attr]
    # The writer survives: the next record commits.
    await writer.record(make_record(request_id="after"))
    assert store.batches == [["after"]]
    assert writer.stats.failed_batches == 2
    await writer.aclose()


async def test_a_commit_past_its_timeout_fails_its_batch() -> None:
    store = GatedStore()  # the gate never opens: a stuck database
    writer = GroupCommitWriter(store, commit_timeout_s=0.01)
    writer.start()
    with pytest.raises(LedgerUnavailable, match="TimeoutError"):
        await writer.record(make_record())
    assert writer.stats.failed_batches == 1


async def test_a_cancelled_waiter_still_gets_its_record_committed() -> None:
    store = GatedStore()
    writer = GroupCommitWriter(store)
    writer.start()
    waiter = asyncio.create_task(writer.record(make_record(request_id="gone")))
    await store.entered.wait()
    waiter.cancel()
    store.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await writer.aclose()
    assert store.batches == [["gone"]]


async def test_close_commits_what_is_queued_then_refuses_new_records() -> None:
    store = GatedStore()
    writer = GroupCommitWriter(store, max_batch=2)
    writer.start()
    waiters = [asyncio.create_task(writer.record(make_record(request_id=rid))) for rid in _ids(5)]
    await store.entered.wait()
    closing = asyncio.create_task(writer.aclose())
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(*waiters, closing)
    assert [rid for batch in store.batches for rid in batch] == _ids(5)
    with pytest.raises(LedgerUnavailable):
        await writer.record(make_record())


async def test_a_writer_that_was_not_started_refuses() -> None:
    writer = GroupCommitWriter(GatedStore())
    with pytest.raises(LedgerUnavailable):
        await writer.record(make_record())


@pytest.mark.parametrize("max_wait_ms", [0.0, 2.0])
async def test_concurrent_records_on_a_real_store_are_each_stored_once(
    store: LedgerStore, max_wait_ms: float
) -> None:
    ledger = Ledger(store, max_batch=64, max_wait_s=max_wait_ms / 1000)
    await ledger.start()
    count = 300
    await asyncio.gather(*(ledger.record(make_record(request_id=rid)) for rid in _ids(count)))
    stats = ledger.stats
    stored = sorted(record.request_id for record in await store.records(Month(2026, 2)))
    assert stored == sorted(_ids(count))
    assert stats.records == count
    # Grouped: never one commit per record, never more than max_batch in one.
    assert stats.batches < count
    assert stats.largest <= 64
    await ledger.aclose()
