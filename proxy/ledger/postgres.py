"""The PostgreSQL ledger store: for deployments where several replicas share one ledger.

psycopg 3's async connection. The group-commit writer owns one connection for
appends (one transaction per batch; ``executemany`` pipelines the inserts, so a
batch costs about one round trip). Reads (billing export, admin API) open their
own short-lived connection: they are rare, and sharing the writer's connection
would put them inside its transactions.

Durability is the server's: a COMMIT that returned is on the server (with its
``synchronous_commit`` setting), whatever happens to the proxy afterwards.

A broken connection fails the batch in flight (its clients get the legacy 503)
and is replaced on the next batch, so a database restart costs the requests made
during the outage, not the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any, Final

import psycopg

from proxy.db.postgres import connect, migrate
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow, decode_modules, encode_modules

__all__ = ["PostgresStore"]

_COLUMNS: Final = (
    "at, tenant, product, operation, stage, side, pdt_transaction_id, modules, status, latency_ms, request_id"
)
_INSERT: Final = f"INSERT INTO ledger ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
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
    )


class PostgresStore:
    def __init__(self, dsn: str, *, connect_timeout_s: float = 5.0) -> None:
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._writer: psycopg.AsyncConnection[Any] | None = None
        self._closed = False

    @property
    def dsn(self) -> str:
        return self._dsn

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await connect(self._dsn, connect_timeout_s=self._connect_timeout_s)

    async def open(self) -> None:
        if self._writer is not None:
            return
        connection = await self._connect()
        try:
            await migrate(connection)
        except BaseException:
            await connection.close()
            raise
        self._writer = connection

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        if not records:
            return
        if self._closed:
            raise RuntimeError("the PostgreSQL ledger store is closed")
        if self._writer is None or self._writer.closed or self._writer.broken:
            self._writer = await self._connect()
        connection = self._writer
        try:
            async with connection.transaction(), connection.cursor() as cursor:
                await cursor.executemany(_INSERT, [_row(record) for record in records])
        except BaseException:
            # The connection's state is unknown (server gone, statement cancelled by
            # the commit timeout): drop it and start the next batch on a fresh one.
            self._writer = None
            await connection.close()
            raise

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_GROUP}, COUNT(*) FROM ledger WHERE {where} GROUP BY {_GROUP} ORDER BY {_GROUP}"  # noqa: S608
        async with await self._connect() as connection:
            cursor = await connection.execute(query, parameters)
            return [
                UsageRow(t, p, o, st, si, int(status), decode_modules(m), int(n))
                for t, p, o, st, si, status, m, n in await cursor.fetchall()
            ]

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        where, parameters = _month_filter(month, tenant)
        query = f"SELECT {_COLUMNS} FROM ledger WHERE {where} ORDER BY at, id"  # noqa: S608
        async with await self._connect() as connection:
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
                )
                for at, t, p, o, st, si, tid, m, status, latency, rid in await cursor.fetchall()
            ]

    async def close(self) -> None:
        self._closed = True
        if self._writer is not None:
            await self._writer.close()
            self._writer = None


def _month_filter(month: Month, tenant: str | None) -> tuple[str, tuple[Any, ...]]:
    if tenant is None:
        return "at >= %s AND at < %s", (month.start, month.end)
    return "tenant = %s AND at >= %s AND at < %s", (tenant, month.start, month.end)
