"""The PostgreSQL ledger store: for deployments where several replicas share one ledger.

Connections come from the process's pool (``proxy.db.pool``), shared with the
state store: the group-commit writer borrows one per batch (one transaction;
``executemany`` pipelines the inserts, so a batch costs about one round trip),
and reads (billing export, admin API) borrow their own, never sitting inside the
writer's transaction.

Durability is the server's: a COMMIT that returned is on the server (with its
``synchronous_commit`` setting), whatever happens to the proxy afterwards.

A broken connection fails the batch in flight (its clients get the legacy 503)
and the pool replaces it, so a database restart costs the requests made during
the outage, not the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any, Final

from proxy.db.pool import PostgresPool, store_pool
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow, decode_modules, encode_modules

__all__ = ["PostgresStore"]

_COLUMNS: Final = (
    "at, tenant, product, operation, stage, side, pdt_transaction_id, modules, status, latency_ms, "
    "request_id, fallback"
)
_INSERT: Final = f"INSERT INTO ledger ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
_GROUP: Final = "tenant, product, operation, stage, side, status, modules"


def _row(record: LedgerRecord) -> tuple[Any, ...]:
    return (
        record.at,
        record.tenant,
        record.product,
        record.operation,
        record.stage,
        record.side,
        record.pdt_transaction_id,
        encode_modules(record.modules),
        record.status,
        record.latency_ms,
        record.request_id,
        record.fallback,
    )


class PostgresStore:
    """On ``database``: a shared pool (the runtime's), or a DSN for a pool of its own
    that the store closes with itself (tests); ``owns_pool`` hands a given pool over."""

    def __init__(
        self,
        database: str | PostgresPool,
        *,
        connect_timeout_s: float = 5.0,
        owns_pool: bool | None = None,
    ) -> None:
        self._pool, self._owns_pool = store_pool(
            database, connect_timeout_s=connect_timeout_s, owns_pool=owns_pool
        )
        self._closed = False

    @property
    def dsn(self) -> str:
        return self._pool.dsn

    @property
    def pool(self) -> PostgresPool:
        return self._pool

    async def open(self) -> None:
        await self._pool.open()

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        if not records:
            return
        if self._closed:
            raise RuntimeError("the PostgreSQL ledger store is closed")
        async with (
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            await cursor.executemany(_INSERT, [_row(record) for record in records])

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_GROUP}, COUNT(*) FROM ledger WHERE {where} GROUP BY {_GROUP} ORDER BY {_GROUP}"  # noqa: S608
        async with self._pool.connection() as connection:
            cursor = await connection.execute(query, parameters)
            return [
                UsageRow(t, p, o, st, si, int(status), decode_modules(m), int(n))
                for t, p, o, st, si, status, m, n in await cursor.fetchall()
            ]

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_COLUMNS} FROM ledger WHERE {where} ORDER BY at, id"  # noqa: S608
        async with self._pool.connection() as connection:
            cursor = await connection.execute(query, parameters)
            return [
                LedgerRecord(
                    at=at.astimezone(UTC),
                    tenant=t,
                    product=p,
                    operation=o,
                    stage=st,
                    side=si,
                    pdt_transaction_id=tid,
                    modules=decode_modules(m),
                    status=int(status),
                    latency_ms=float(latency),
                    request_id=rid,
                    fallback=fb,
                )
                for at, t, p, o, st, si, tid, m, status, latency, rid, fb in await cursor.fetchall()
            ]

    async def close(self) -> None:
        """Idempotent; a shared pool stays open for the other stores (its owner closes it)."""
        self._closed = True
        if self._owns_pool:
            await self._pool.close()


def _month_filter(month: Month, tenant: str | None) -> tuple[str, tuple[Any, ...]]:
    if tenant is None:
        return "at >= %s AND at < %s", (month.start, month.end)
    return "tenant = %s AND at >= %s AND at < %s", (tenant, month.start, month.end)
