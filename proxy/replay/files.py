"""Corpus files on disk: append with a size cap and rotation, list for export.

A writer appends to its live file ``<stem>.jsonl``; when the next batch would take
it past ``max_bytes`` the live file is renamed ``<stem>-<UTC stamp>.jsonl`` and a
new one begun. Beyond ``max_files`` finished files in the directory, the oldest
are deleted, whoever wrote them. The stem defaults to ``corpus-<pid>``, so workers
sharing a data dir never interleave or rotate each other's live file.

Blocking I/O: the recorder calls this from a worker thread, never on the event loop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

__all__ = ["CorpusFiles", "corpus_files"]

SUFFIX = ".jsonl"
_ROTATED = re.compile(r"-\d{8}T\d{12}(?:-\d+)?\.jsonl$")


def corpus_files(directory: Path) -> list[Path]:
    """Every corpus file in ``directory``, oldest first (finished files before live ones)."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{SUFFIX}"), key=lambda path: (path.stat().st_mtime_ns, path.name))


class CorpusFiles:
    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int,
        max_files: int,
        stem: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.stem = stem or f"corpus-{os.getpid()}"
        self._clock = clock
        self._handle: BinaryIO | None = None
        self._size = 0
        self.rotations = 0

    @property
    def live(self) -> Path:
        return self.directory / f"{self.stem}{SUFFIX}"

    def _open(self) -> BinaryIO:
        if self._handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._handle = self.live.open("ab")
            self._size = self._handle.tell()
        return self._handle

    def append(self, lines: Sequence[bytes]) -> None:
        """Write ``lines`` (each newline-terminated), rotating first when they would not fit."""
        if not lines:
            return
        handle = self._open()
        size = sum(len(line) for line in lines)
        if self._size and self._size + size > self.max_bytes:
            self._rotate()
            handle = self._open()
        handle.write(b"".join(lines))
        handle.flush()
        self._size += size

    def _rotate(self) -> None:
        self.close()
        stamp = self._clock().strftime("%Y%m%dT%H%M%S%f")
        target = self.directory / f"{self.stem}-{stamp}{SUFFIX}"
        serial = 0
        while target.exists():
            serial += 1
            target = self.directory / f"{self.stem}-{stamp}-{serial}{SUFFIX}"
        self.live.rename(target)
        self.rotations += 1
        self._prune()

    def _prune(self) -> None:
        # Only rotated files: another worker's live file is not finished.
        finished = [path for path in corpus_files(self.directory) if _ROTATED.search(path.name)]
        for path in finished[: max(0, len(finished) - self.max_files)]:
            path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
