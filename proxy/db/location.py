"""Where the SQLite database lives: one file under the data directory for every store."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from proxy.config import Settings

__all__ = ["SQLITE_FILE", "sqlite_path"]

# Named after its first tenant (the ledger) and kept: renaming it would make an
# upgraded proxy start on an empty database beside the existing ledger.
SQLITE_FILE: Final = "ledger.sqlite3"


def sqlite_path(settings: Settings) -> Path:
    return settings.data_dir / SQLITE_FILE
