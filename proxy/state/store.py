"""The one interface both state stores implement (SQLite, PostgreSQL).

Durable runtime state beside the ledger, in the same database: stage overrides
set through the admin API (per tenant, optionally per product), the audit log of
every stage change, the configuration reloads (audit and generation), the shadow
stage's comparison results (the backtest's input) and the recorder's masked
exchanges (the replay corpus). Every method is
a coroutine: the SQLite store commits shadow samples and recorded exchanges on
the event loop when that cannot block and runs everything else on a dedicated
thread (``proxy.db.sqlite``), the PostgreSQL store borrows connections from the
process's pool (``proxy.db.pool``).

Times are timezone-aware and come back in UTC. Time windows are half open:
``since <= at < until``, like the ledger's months.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from proxy.state.corpus import CorpusEntry
from proxy.state.records import ConfigReload, ShadowResult, StageChange, StageOverride

__all__ = ["StateStore"]


class StateStore(Protocol):
    async def open(self) -> None:
        """Connect and apply pending migrations of the whole database; safe when
        several processes (or the ledger's store) open at once; a no-op when open."""

    async def close(self) -> None:
        """Release the connection; idempotent; a closed store is not reopened."""

    async def stage_overrides(self) -> list[StageOverride]:
        """Every override in force, ordered by tenant, then product (the default first)."""

    async def set_stage(self, change: StageChange) -> None:
        """Make ``change.to_stage`` the override of ``(tenant, product)`` (replacing any
        earlier one) and append ``change`` to the audit log, in one transaction.

        Raises ValueError, before touching the database, when ``to_stage`` is not a
        stage label as the tenant file writes it (an override every replica would
        fail to parse at startup must never be stored)."""

    async def stage_audit(self, *, tenant: str | None = None, limit: int = 1000) -> list[StageChange]:
        """The newest ``limit`` stage changes, of ``tenant`` or of every tenant, newest first."""

    async def save_shadow(self, results: Sequence[ShadowResult]) -> None:
        """Store every result in one transaction, or raise and store none."""

    async def shadow_results(
        self, tenant: str, *, since: datetime, until: datetime, product: str | None = None
    ) -> list[ShadowResult]:
        """``tenant``'s results with ``since <= at < until`` (of one product, or all), oldest first."""

    async def prune_shadow(self, before: datetime) -> int:
        """Delete the results older than ``before`` (retention); the number deleted."""

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None:
        """Store every (already masked) exchange in one transaction, or raise and store none."""

    async def recorded_lines(
        self, tenant: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, str]]:
        """``tenant``'s corpus lines with ``since <= at < until`` as ``(id, line)``, oldest
        first, from every worker and replica that recorded."""

    async def prune_recorded(self, before: datetime) -> int:
        """Delete the exchanges recorded before ``before`` (retention); the number deleted."""

    async def record_reload(self, reload: ConfigReload) -> int:
        """Append ``reload`` to the reload audit; its generation (the row's number)."""

    async def config_generation(self) -> int:
        """The newest generation of an ``ok`` reload, 0 when there was none: what replicas poll."""

    async def reload_audit(self, *, limit: int = 20) -> list[ConfigReload]:
        """The newest ``limit`` reloads (refused ones too), newest first."""
