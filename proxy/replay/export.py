"""``record export``: one tenant's recorded exchanges, from the recorder's files, as one corpus.

``select`` is pure (entries in, entries out, sorted by time); ``export_corpus``
reads every corpus file in the recorder's directory (rotated and live, each line
checked against the schema) and writes the selection.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from proxy.replay.corpus import CorpusEntry, entry_to_line, read_corpus
from proxy.replay.files import corpus_files

__all__ = ["export_corpus", "select"]


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


def export_corpus(
    directory: Path,
    out: Path,
    *,
    tenant: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write the selection to ``out``; returns how many exchanges it holds."""
    entries = [entry for path in corpus_files(directory) for entry in read_corpus(path)]
    chosen = select(entries, tenant=tenant, since=since, until=until)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(entry_to_line(entry) for entry in chosen))
    return len(chosen)
