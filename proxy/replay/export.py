"""``record export``: one tenant's recorded exchanges as one corpus, from the proxy's database.

``select`` is pure (entries in, entries out, sorted by time). ``export_recorded``
reads the tenant's window from the database every worker and replica records
into (each line checked against the schema, as any corpus), adds what corpus
files of earlier releases hold in a directory, if any, and writes the selection.
``export_corpus`` reads corpus files alone (``--directory``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from proxy.replay.files import corpus_files
from proxy.state.corpus import CorpusEntry, entry_to_line, parse_line, read_corpus

__all__ = ["RecordedSource", "export_corpus", "export_recorded", "select"]

# How a line read from the database is named in a schema error.
_SOURCE = "database recorded_exchange id"


class RecordedSource(Protocol):
    """Where recorded lines are read (``proxy.state.store.StateStore`` implements it)."""

    async def recorded_lines(
        self, tenant: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, str]]: ...


def select(
    entries: Iterable[CorpusEntry],
    *,
    tenant: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[CorpusEntry]:
    """``tenant``'s entries with ``since <= time < until``, oldest first."""
    chosen = [
        entry
        for entry in entries
        if entry.tenant == tenant
        and (since is None or entry.time >= since)
        and (until is None or entry.time < until)
    ]
    return sorted(chosen, key=lambda entry: entry.time)


def _write(out: Path, entries: Iterable[CorpusEntry]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(entry_to_line(entry) for entry in entries))


def _from_files(directory: Path) -> list[CorpusEntry]:
    return [entry for path in corpus_files(directory) for entry in read_corpus(path)]


def export_corpus(
    directory: Path,
    out: Path,
    *,
    tenant: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """The selection of the corpus files in ``directory``, written to ``out``; how many."""
    chosen = select(_from_files(directory), tenant=tenant, since=since, until=until)
    _write(out, chosen)
    return len(chosen)


async def export_recorded(
    source: RecordedSource,
    out: Path,
    *,
    tenant: str,
    since: datetime | None = None,
    until: datetime | None = None,
    earlier_files: Path | None = None,
) -> int:
    """The tenant's recorded exchanges in the window, from the database (plus the corpus
    files an earlier release left in ``earlier_files``), written to ``out``; how many."""
    rows = await source.recorded_lines(tenant, since=since, until=until)
    entries = [parse_line(line.encode(), source=_SOURCE, number=row_id) for row_id, line in rows]
    if earlier_files is not None:
        entries.extend(_from_files(earlier_files))
    chosen = select(entries, tenant=tenant, since=since, until=until)
    _write(out, chosen)
    return len(chosen)
