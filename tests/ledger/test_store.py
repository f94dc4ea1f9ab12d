"""The store contract, run on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proxy.db.migrations import migrations
from proxy.ledger.month import Month
from proxy.ledger.record import UsageRow
from proxy.ledger.store import LedgerStore
from tests.ledger.conftest import StoreFactory
from tests.ledger.support import make_record

FEBRUARY = Month(2026, 2)


@pytest.mark.parametrize(
    "record",
    [
        make_record(),
        make_record(pdt_transaction_id=None, modules=(), status=400, latency_ms=0.25),
        make_record(modules=("pack:datatrust",), stage="canary:10", side="legacy"),
        make_record(modules=("sms_token",), operation="datatrust.token.send", status=201),
        # Microseconds and a non-UTC offset come back as the same instant, in UTC.
        make_record(at=datetime(2026, 2, 28, 20, 59, 59, 123456, tzinfo=timezone(timedelta(hours=-3)))),
    ],
    ids=["combo", "error", "pack-legacy", "token", "micros"],
)
async def test_a_record_reads_back_unchanged(store: LedgerStore, record: object) -> None:
    await store.append([record])  # type: ignore[list-item]
    assert await store.records(FEBRUARY) == [record]


async def test_a_batch_is_one_transaction_in_order(store: LedgerStore) -> None:
    batch = [make_record(request_id=f"r{i}", at=make_record().at + timedelta(seconds=i)) for i in range(50)]
    await store.append(batch)
    assert [record.request_id for record in await store.records(FEBRUARY)] == [f"r{i}" for i in range(50)]


async def test_an_empty_batch_writes_nothing(store: LedgerStore) -> None:
    await store.append([])
    assert await store.records(FEBRUARY) == []


@pytest.mark.parametrize(
    ("at", "month"),
    [
        (datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC), Month(2026, 1)),
        (datetime(2026, 2, 1, 0, 0, tzinfo=UTC), FEBRUARY),
        (datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC), FEBRUARY),
        (datetime(2026, 3, 1, 0, 0, tzinfo=UTC), Month(2026, 3)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), Month(2026, 12)),
    ],
)
async def test_month_boundaries_are_half_open_and_utc(store: LedgerStore, at: datetime, month: Month) -> None:
    await store.append([make_record(at=at)])
    for candidate in (Month(2026, 1), FEBRUARY, Month(2026, 3), Month(2026, 12)):
        expected = 1 if candidate == month else 0
        assert len(await store.records(candidate)) == expected, candidate


async def test_usage_counts_per_billing_values_and_filters_by_tenant(store: LedgerStore) -> None:
    await store.append(
        [
            make_record(request_id="a"),
            make_record(request_id="b"),
            make_record(request_id="c", status=400, modules=(), pdt_transaction_id=None),
            make_record(request_id="d", tenant="beta", modules=("scores",)),
            make_record(request_id="e", at=datetime(2026, 3, 1, tzinfo=UTC)),
        ]
    )
    create = ("datatrust-v1", "datatrust.transaction.create", "pdt", "pdt")
    assert await store.usage(FEBRUARY) == [
        UsageRow("acme", *create, 200, ("scores", "ratings", "insights"), 2),
        UsageRow("acme", *create, 400, (), 1),
        UsageRow("beta", *create, 200, ("scores",), 1),
    ]
    assert await store.usage(FEBRUARY, tenant="beta") == [UsageRow("beta", *create, 200, ("scores",), 1)]
    assert await store.usage(FEBRUARY, tenant="nobody") == []


async def test_opening_again_applies_no_migration_twice(
    store: LedgerStore, store_factory: StoreFactory
) -> None:
    await store.append([make_record()])
    again = store_factory()
    await again.open()
    try:
        assert await again.records(FEBRUARY) == [make_record()]
    finally:
        await again.close()


async def test_workers_opening_a_fresh_ledger_together_migrate_it_once(store_factory: StoreFactory) -> None:
    stores = [store_factory() for _ in range(4)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        await asyncio.gather(
            *(store.append([make_record(request_id=f"w{i}")]) for i, store in enumerate(stores))
        )
        assert sorted(record.request_id for record in await stores[0].records(FEBRUARY)) == [
            "w0",
            "w1",
            "w2",
            "w3",
        ]
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_schema_version_tracks_every_migration(backend: str, store_factory: StoreFactory) -> None:
    store = store_factory()
    await store.open()
    await store.close()
    expected = [migration.version for migration in migrations(backend)]  # type: ignore[arg-type]
    assert expected[0] == 1
    if backend == "sqlite":
        import sqlite3

        path = store.path  # type: ignore[attr-defined]
        with sqlite3.connect(path) as connection:
            versions = [row[0] for row in connection.execute("SELECT version FROM schema_version ORDER BY 1")]
    else:
        import psycopg

        with psycopg.connect(store.dsn) as connection:  # type: ignore[attr-defined]
            versions = [row[0] for row in connection.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == expected
