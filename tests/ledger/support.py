"""Helpers shared by the ledger tests (the PostgreSQL test server is ``tests.db.postgres``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, utc_now
from proxy.ledger.store import LedgerStore


def make_record(**overrides: Any) -> LedgerRecord:
    fields: dict[str, Any] = {
        "at": datetime(2026, 2, 10, 12, 0, tzinfo=UTC),
        "tenant": "acme",
        "product": "datatrust-v1",
        "operation": "datatrust.transaction.create",
        "stage": "pdt",
        "side": "pdt",
        "pdt_transaction_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "modules": ("scores", "ratings", "insights"),
        "status": 200,
        "latency_ms": 12.5,
        "request_id": "req-1",
    }
    fields.update(overrides)
    return LedgerRecord(**fields)


async def recent_records(store: LedgerStore) -> list[LedgerRecord]:
    """Records of this month and the previous one (a test may straddle midnight UTC of the 1st)."""
    now = Month.of(utc_now())
    previous = Month(now.year - 1, 12) if now.month == 1 else Month(now.year, now.month - 1)
    return [*await store.records(previous), *await store.records(now)]


class BrokenStore:
    """A ledger database that accepts the connection and then fails every commit."""

    async def open(self) -> None:
        return None

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        raise OSError("disk full")

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[Any]:
        raise OSError("disk full")

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        return []

    async def close(self) -> None:
        return None
