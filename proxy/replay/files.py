"""Corpus files on disk, for export: the ones a directory holds, oldest first.

The recorder writes to the proxy's database; files remain what a corpus is once
exported (and what releases before the database held the corpus left under
``DATA_DIR/corpus``: ``corpus-<pid>.jsonl`` live files and their rotated
``corpus-<pid>-<UTC stamp>.jsonl``), which ``record export`` still reads.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SUFFIX", "corpus_files"]

SUFFIX = ".jsonl"


def corpus_files(directory: Path) -> list[Path]:
    """Every corpus file in ``directory``, oldest first (finished files before live ones)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), key=lambda path: (path.stat().st_mtime_ns, path.name))
