"""Schema migrations: numbered SQL files per backend, applied in order at open.

``migrations/<backend>/NNNN_name.sql``, numbered from 0001 without gaps, one
sequence for the whole database (0001 the ledger, 0002 the runtime state, 0003
the recorded traffic): every store (and ``pdt-proxy migrate``) applies every
pending migration, so a database is at one version whichever opened it. The
applied numbers are recorded in ``schema_version``, inside the same transaction
as the migration, so a migration is applied exactly once even when several
stores, workers or ``migrate`` runs open the database at the same moment (each
takes a lock first: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL;
see ``proxy.db.sqlite.migrate`` and ``proxy.db.postgres.migrate``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

__all__ = ["Backend", "Migration", "migrations"]

Backend = Literal["sqlite", "postgres"]
_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(backend: Backend) -> tuple[Migration, ...]:
    folder = resources.files(__package__).joinpath(backend)
    found: list[Migration] = []
    for entry in folder.iterdir():
        matched = _NAME.fullmatch(entry.name)
        if matched:
            found.append(Migration(int(matched[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    if [migration.version for migration in found] != list(range(1, len(found) + 1)):
        # A gap or a duplicate number would apply migrations out of order on some
        # databases and not others: refuse to start instead.
        raise RuntimeError(f"database migrations for {backend} are not numbered 0001..N without gaps")
    return tuple(found)
