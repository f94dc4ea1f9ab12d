"""The PostgreSQL test server, shared by every database test (ledger, state, plumbing)."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = ["PG_DSN", "postgres_schema", "postgres_unreachable"]

# CI runs PostgreSQL here (trust auth); PROXY_TEST_PG_DSN points elsewhere.
PG_DSN = os.environ.get("PROXY_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")


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
    """A DSN whose search_path is a fresh schema, dropped (with its tables) afterwards."""
    schema = f"db_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield make_conninfo(PG_DSN, options=f"-c search_path={schema}")
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
