"""The process's PostgreSQL connections: one pool shared by the ledger, the state
store and the recorder (psycopg_pool's ``AsyncConnectionPool``).

Before, each store held one connection behind a lock, so a stage poll waited
behind a shadow batch and an admin read behind both. The pool lends a connection
per operation (``connection()``), keeps ``min_size`` open so the ledger's group
commit never pays a connect, and grows to ``max_size`` under concurrent use.

``open`` is where the database is checked before the process serves: it
migrates (``auto_migrate``) or checks that the schema is the one this release
needs, and refuses a newer one either way (``proxy.db.schema``). It is
idempotent and shared: whichever store opens first does it.

A connection whose operation failed is closed, not returned: after a cancelled
statement (a commit timeout) or a server restart its state is unknown, and the
pool replaces a closed connection with a fresh one. A connection failure also
makes the pool check its idle connections, so the dead ones a database restart
left behind are replaced before the next callers draw them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from proxy.db.postgres import check_schema, migrate
from proxy.observability.logging import get_logger

__all__ = ["PostgresPool", "store_pool"]

_log = get_logger(__name__)


class PostgresPool:
    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 5.0,
        auto_migrate: bool = True,
    ) -> None:
        self._dsn = dsn
        self._sizes = (min_size, max_size)
        self._timeout_s = timeout_s
        self._connect_timeout_s = connect_timeout_s
        self.auto_migrate = auto_migrate
        # Made in open(): the pool's workers are tasks of the loop that serves.
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self._checking: asyncio.Task[None] | None = None

    @property
    def dsn(self) -> str:
        return self._dsn

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def max_size(self) -> int:
        return self._sizes[1]

    def stats(self) -> dict[str, int]:
        """psycopg_pool's counters (pool_size, pool_available, requests_waiting, ...)."""
        return self._pool.get_stats() if self._pool is not None else {}

    async def open(self) -> None:
        """Open the pool, then migrate or check the schema; a no-op when open."""
        async with self._opening:
            if self._pool is not None:
                return
            if self._closed:
                raise RuntimeError("the PostgreSQL pool is closed")
            min_size, max_size = self._sizes
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                self._dsn,
                min_size=min_size,
                max_size=max_size,
                timeout=self._timeout_s,
                # libpq takes whole seconds, and 0 would mean "wait forever".
                kwargs={"autocommit": True, "connect_timeout": max(1, round(self._connect_timeout_s))},
                open=False,
                name="pdt-proxy",
            )
            try:
                # wait: a database that cannot be reached stops startup here.
                await pool.open(wait=True, timeout=self._connect_timeout_s)
                async with pool.connection() as connection:
                    if self.auto_migrate:
                        await migrate(connection)
                    else:
                        await check_schema(connection)
            except BaseException:
                await pool.close()
                raise
            self._pool = pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for one operation, returned (or replaced) afterwards."""
        pool = self._pool
        if pool is None or self._closed:
            raise RuntimeError("the PostgreSQL pool is not open")
        async with pool.connection() as connection:
            try:
                yield connection
            except BaseException as error:
                # Its state is unknown (cancelled statement, server gone): the pool
                # replaces a closed connection instead of lending it again.
                await connection.close()
                if isinstance(error, psycopg.OperationalError):
                    self._check_idle(pool)
                raise

    def _check_idle(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(self._check(pool))

    async def _check(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        try:
            await pool.check()
        except Exception as error:  # the next operation fails and retries the check
            _log.warning("postgres pool check failed", error=type(error).__name__)

    async def close(self) -> None:
        """Idempotent; a closed pool is not reopened."""
        self._closed = True
        if self._checking is not None:
            self._checking.cancel()
            await asyncio.gather(self._checking, return_exceptions=True)
            self._checking = None
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


def store_pool(
    database: str | PostgresPool, *, connect_timeout_s: float, owns_pool: bool | None
) -> tuple[PostgresPool, bool]:
    """A store's pool and whether the store closes it: a DSN gets a pool of its own (the
    store's to close, as in tests), a given pool stays its giver's unless handed over."""
    if isinstance(database, str):
        pool = PostgresPool(database, connect_timeout_s=connect_timeout_s)
        return pool, True if owns_pool is None else owns_pool
    return database, False if owns_pool is None else owns_pool
