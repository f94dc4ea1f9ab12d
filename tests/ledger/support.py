"""Helpers shared by the ledger tests: records, and the PostgreSQL test server."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, utc_now
from proxy.ledger.store import LedgerStore

# CI runs PostgreSQL here (trust auth); PROXY_TEST_PG_DSN points elsewhere.
PG_DSN = os.environ.get("PROXY_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")


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


@cache
def postgres_unreachable() -> str | None:
    """Why the PostgreSQL tests cannot run, or None when the server listens.

    Only "nothing listens there" skips: a server that refuses the login or lacks
    the database is a broken CI setup, and its tests fail loudly instead.
    """
    params = conninfo_to_dict(PG_DSN)
    host, port = str(params.get("host") or "127.0.0.1"), int(str(params.get("port") or 5432))
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as error:
        return f"no PostgreSQL server listens on {host}:{port} ({error})"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A DSN whose search_path is a fresh schema, dropped (with the ledger) afterwards."""
    schema = f"ledger_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(PG_DSN, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


async def recent_records(store: LedgerStore) -> list[LedgerRecord]:
    """Records of this month and the previous one (a test may straddle midnight UTC of the 1st)."""
    now = Month.of(utc_now())
    previous = Month(now.year - 1, 12) if now.month == 1 else Month(now.year, now.month - 1)
    return [*await store.records(previous), *await store.records(now)]
