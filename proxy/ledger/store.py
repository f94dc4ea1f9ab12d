"""The one interface both ledger stores implement (SQLite, PostgreSQL).

A store is opened once (applying pending schema migrations, or checking the
schema when ``database.auto_migrate`` is off), appends batches of
records in one database transaction each, and answers the two reads billing and
tests need. Every method is a coroutine: the SQLite store commits on the event loop
when that cannot block and runs everything else on a dedicated thread
(``proxy.db.sqlite``), the PostgreSQL store borrows connections from the process's pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, UsageRow

__all__ = ["LedgerStore"]


class LedgerStore(Protocol):
    async def open(self) -> None:
        """Connect and apply pending migrations; safe when several processes open at
        once, and a no-op on a store already open."""

    async def append(self, records: Sequence[LedgerRecord]) -> None:
        """Make every record durable in one transaction, or raise and make none durable."""

    async def usage(self, month: Month, *, tenant: str | None = None) -> list[UsageRow]:
        """Records of ``month`` counted per billing-relevant values, in a stable order."""

    async def records(self, month: Month, *, tenant: str | None = None) -> list[LedgerRecord]:
        """Every record of ``month``, oldest first (audits and tests; months are not huge)."""

    async def close(self) -> None:
        """Release the connection; idempotent; a closed store is not reopened."""
