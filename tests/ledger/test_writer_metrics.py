"""Ledger metrics: each commit attempt counted, with its size, by store backend."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy.config import Settings
from proxy.ledger.factory import build_ledger, build_store, store_backend
from proxy.ledger.writer import GroupCommitWriter
from proxy.observability.metrics import Metrics
from tests.ledger.support import make_record
from tests.ledger.test_writer import GatedStore, _ids, _until


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = metrics.render()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name.startswith("pdt_proxy_ledger_")
    }


async def _run(store: GatedStore, writer: GroupCommitWriter, fail_first: int) -> None:
    """Three batches: r0 alone, r1..r4 queued during it, then r5 alone."""
    writer.start()
    store.fail_next = fail_first
    first = asyncio.create_task(writer.record(make_record(request_id="r0")))
    await store.entered.wait()
    queued = [asyncio.create_task(writer.record(make_record(request_id=rid))) for rid in _ids(4, 1)]
    await _until(lambda: writer.queued == 4)
    store.gate.set()
    await asyncio.gather(first, *queued, return_exceptions=True)
    await writer.record(make_record(request_id="r5"))
    await writer.aclose()


@pytest.mark.parametrize(
    ("fail_first", "expected"),
    [
        (0, [(1, True), (4, True), (1, True)]),
        (1, [(1, False), (4, True), (1, True)]),
        (2, [(1, False), (4, False), (1, True)]),
    ],
)
async def test_each_commit_attempt_is_reported_with_its_size(
    fail_first: int, expected: list[tuple[int, bool]]
) -> None:
    seen: list[tuple[int, bool]] = []
    store = GatedStore()
    await _run(
        store, GroupCommitWriter(store, on_commit=lambda size, ok: seen.append((size, ok))), fail_first
    )
    assert seen == expected


async def test_a_failing_observer_does_not_fail_the_commit() -> None:
    def broken(_size: int, _ok: bool) -> None:
        raise RuntimeError("metrics bug")

    store = GatedStore()
    store.gate.set()
    writer = GroupCommitWriter(store, on_commit=broken)
    writer.start()
    await writer.record(make_record(request_id="r0"))
    await writer.aclose()
    assert store.batches == [["r0"]]


async def test_the_ledger_metrics_by_backend(settings: Settings) -> None:
    metrics = Metrics()
    store = GatedStore()
    ledger = build_ledger(settings, store=store, metrics=metrics)  # type: ignore[arg-type]
    await ledger.start()
    writer = ledger._writer  # type: ignore[attr-defined]
    assert writer is not None
    await ledger.aclose()
    # The same wiring as the app's, driven through a fresh writer on the same observer.
    store = GatedStore()
    await _run(store, GroupCommitWriter(store, on_commit=writer._on_commit), fail_first=1)
    samples = _samples(metrics)
    backend = (("backend", "gatedstore"),)
    assert samples[("pdt_proxy_ledger_commits_total", backend)] == 2
    assert samples[("pdt_proxy_ledger_commit_failures_total", backend)] == 1
    assert samples[("pdt_proxy_ledger_commit_records_count", backend)] == 3
    assert samples[("pdt_proxy_ledger_commit_records_sum", backend)] == 6
    assert samples[("pdt_proxy_ledger_commit_records_bucket", (*backend, ("le", "1.0")))] == 2
    assert samples[("pdt_proxy_ledger_commit_records_bucket", (*backend, ("le", "4.0")))] == 3


def test_the_backend_label_names_the_store(settings: Settings) -> None:
    assert store_backend(build_store(settings)) == "sqlite"
    with_dsn = settings.model_copy(
        update={"database": settings.database.model_copy(update={"dsn": "postgresql://u:secret@db/x"})}
    )
    assert store_backend(build_store(with_dsn)) == "postgres"
