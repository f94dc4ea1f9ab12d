"""The SQLite state store: the ledger's file, its own connection and thread.

Its own ``SqliteDatabase`` (not the ledger's): a stage change or a shadow batch
never waits in line behind the ledger's group commits on one thread; the two
connections share the file like any two workers do (WAL, ``BEGIN IMMEDIATE``,
``busy_timeout``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from proxy.db.sqlite import InlineStats, SqliteDatabase, from_text, to_text, transaction
from proxy.state.corpus import CorpusEntry
from proxy.state.records import ConfigReload, ShadowResult, StageChange, StageOverride, as_utc
from proxy.state.rows import (
    RECORDED_WRITE,
    SHADOW_READ,
    SHADOW_WRITE,
    check_change,
    check_limit,
    product_column,
    product_value,
    recorded_row,
    shadow_from_row,
    shadow_row,
)

__all__ = ["SqliteStateStore"]

_UPSERT_OVERRIDE: Final = (
    "INSERT INTO stage_override (tenant, product, stage, at, actor) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant, product) DO UPDATE "
    "SET stage = excluded.stage, at = excluded.at, actor = excluded.actor"
)
_INSERT_AUDIT: Final = (
    "INSERT INTO stage_audit (at, actor, tenant, product, from_stage, to_stage) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_SHADOW: Final = (
    f"INSERT INTO shadow_result ({SHADOW_WRITE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
)
_AUDIT_COLUMNS: Final = "at, actor, tenant, product, from_stage, to_stage"
_INSERT_RECORDED: Final = f"INSERT INTO recorded_exchange ({RECORDED_WRITE}) VALUES (?, ?, ?, ?, ?)"  # noqa: S608
_INSERT_RELOAD: Final = (
    "INSERT INTO config_reload (at, actor, trigger, outcome, version, detail) VALUES (?, ?, ?, ?, ?, ?)"
)
_RELOADS: Final = (
    "SELECT id, at, actor, trigger, outcome, version, detail FROM config_reload ORDER BY id DESC LIMIT ?"
)
_GENERATION: Final = "SELECT COALESCE(MAX(id), 0) FROM config_reload WHERE outcome = 'ok'"
_PRUNE: Final = "DELETE FROM {0} WHERE id IN (SELECT id FROM {0} WHERE at < ? LIMIT ?)"


class SqliteStateStore:
    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout_ms: int = 5000,
        auto_migrate: bool = True,
        prune_batch_rows: int = 5000,
    ) -> None:
        self.path = path
        self._prune_batch_rows = max(1, prune_batch_rows)
        self._database = SqliteDatabase(
            path,
            synchronous=synchronous,
            busy_timeout_ms=busy_timeout_ms,
            name="state",
            auto_migrate=auto_migrate,
        )

    @property
    def inline_stats(self) -> InlineStats:
        return self._database.inline_stats

    async def open(self) -> None:
        await self._database.open()

    async def close(self) -> None:
        await self._database.close()

    async def stage_overrides(self) -> list[StageOverride]:
        def read(connection: sqlite3.Connection) -> list[StageOverride]:
            rows = connection.execute(
                "SELECT tenant, product, stage, at, actor FROM stage_override ORDER BY tenant, product"
            )
            return [
                StageOverride(tenant, product_value(product), stage, from_text(at), actor)
                for tenant, product, stage, at, actor in rows
            ]

        return await self._database.run(read)

    async def set_stage(self, change: StageChange) -> None:
        check_change(change)
        at, product = to_text(change.at), product_column(change.product)

        def write(connection: sqlite3.Connection) -> None:
            with transaction(connection):
                connection.execute(
                    _UPSERT_OVERRIDE, (change.tenant, product, change.to_stage, at, change.actor)
                )
                connection.execute(
                    _INSERT_AUDIT,
                    (at, change.actor, change.tenant, product, change.from_stage, change.to_stage),
                )

        await self._database.run(write)

    async def stage_audit(self, *, tenant: str | None = None, limit: int = 1000) -> list[StageChange]:
        where, parameters = ("", ()) if tenant is None else ("WHERE tenant = ?", (tenant,))
        query = f"SELECT {_AUDIT_COLUMNS} FROM stage_audit {where} ORDER BY at DESC, id DESC LIMIT ?"  # noqa: S608

        def read(connection: sqlite3.Connection) -> list[StageChange]:
            return [
                StageChange(from_text(at), actor, t, product_value(p), from_stage, to_stage)
                for at, actor, t, p, from_stage, to_stage in connection.execute(
                    query, (*parameters, check_limit(limit))
                )
            ]

        return await self._database.run(read)

    async def record_reload(self, reload: ConfigReload) -> int:
        row = (
            to_text(reload.at),
            reload.actor,
            reload.trigger,
            reload.outcome,
            reload.version,
            reload.detail,
        )

        def write(connection: sqlite3.Connection) -> int:
            with transaction(connection):
                cursor = connection.execute(_INSERT_RELOAD, row)
            return int(cursor.lastrowid or 0)

        return await self._database.run(write)

    async def config_generation(self) -> int:
        def read(connection: sqlite3.Connection) -> int:
            return int(connection.execute(_GENERATION).fetchone()[0])

        return await self._database.run(read)

    async def reload_audit(self, *, limit: int = 20) -> list[ConfigReload]:
        def read(connection: sqlite3.Connection) -> list[ConfigReload]:
            return [
                ConfigReload(from_text(at), actor, trigger, outcome, version, detail, int(generation))
                for generation, at, actor, trigger, outcome, version, detail in connection.execute(
                    _RELOADS, (check_limit(limit),)
                )
            ]

        return await self._database.run(read)

    async def save_shadow(self, results: Sequence[ShadowResult]) -> None:
        rows = []
        for result in results:
            at, *rest = shadow_row(result)
            rows.append((to_text(at), *rest))

        if rows:
            await self._database.write(lambda connection: connection.executemany(_INSERT_SHADOW, rows))

    async def shadow_results(
        self, tenant: str, *, since: datetime, until: datetime, product: str | None = None
    ) -> list[ShadowResult]:
        where = "tenant = ? AND at >= ? AND at < ?"
        parameters: tuple[str, ...] = (
            tenant,
            to_text(as_utc(since, "since")),
            to_text(as_utc(until, "until")),
        )
        if product is not None:
            where, parameters = f"{where} AND product = ?", (*parameters, product)
        query = f"SELECT {SHADOW_READ.format('comparison')} FROM shadow_result WHERE {where} ORDER BY at, id"  # noqa: S608

        def read(connection: sqlite3.Connection) -> list[ShadowResult]:
            return [
                shadow_from_row((from_text(row[0]), *row[1:]))
                for row in connection.execute(query, parameters)
            ]

        return await self._database.run(read)

    async def prune_shadow(self, before: datetime) -> int:
        return await self._prune("shadow_result", before)

    async def save_recorded(self, entries: Sequence[CorpusEntry]) -> None:
        rows = []
        for entry in entries:
            at, *rest = recorded_row(entry)
            rows.append((to_text(at), *rest))
        if rows:
            # The shadow batches' path: on the loop when the write lock is free, else the thread.
            await self._database.write(lambda connection: connection.executemany(_INSERT_RECORDED, rows))

    async def recorded_lines(
        self, tenant: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, str]]:
        where, parameters = "tenant = ?", [tenant]
        if since is not None:
            where, parameters = f"{where} AND at >= ?", [*parameters, to_text(as_utc(since, "since"))]
        if until is not None:
            where, parameters = f"{where} AND at < ?", [*parameters, to_text(as_utc(until, "until"))]
        query = f"SELECT id, line FROM recorded_exchange WHERE {where} ORDER BY at, id"  # noqa: S608

        def read(connection: sqlite3.Connection) -> list[tuple[int, str]]:
            return [(int(row_id), str(line)) for row_id, line in connection.execute(query, parameters)]

        return await self._database.run(read)

    async def prune_recorded(self, before: datetime) -> int:
        return await self._prune("recorded_exchange", before)

    async def _prune(self, table: str, before: datetime) -> int:
        cutoff = to_text(as_utc(before, "before"))
        batch = self._prune_batch_rows
        statement = _PRUNE.format(table)

        def delete(connection: sqlite3.Connection) -> int:
            # In batches, one transaction each: the write lock is the whole file's, and
            # the ledger's commits (legacy answers wait on them) must not queue behind
            # one long delete past their busy timeout.
            deleted = 0
            while True:
                with transaction(connection):
                    count = connection.execute(statement, (cutoff, batch)).rowcount
                deleted += count
                if count < batch:
                    return deleted

        return await self._database.run(delete)
