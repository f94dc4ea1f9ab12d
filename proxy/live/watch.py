"""``serve --watch``: reload when a file of the set changes (for a laptop, not a fleet).

A thread runs ``watchfiles`` over the mappings directory, the tenant file and the
pricing file; a burst of saves (an editor writes a temporary file, renames it,
touches the directory) is one change after the debounce, and each change asks
the reloader for one reload, on the event loop (``request_reload`` is thread-safe).
A broken save is refused like any reload: the running set stays and the log says why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import watchfiles

from proxy.config import Settings
from proxy.ledger.factory import pricing_path
from proxy.live.fingerprint import READ_SUFFIXES
from proxy.observability.logging import get_logger
from proxy.tenants import demo_tenants_file

__all__ = ["FileWatcher", "watched_paths"]

_log = get_logger(__name__)


def watched_paths(settings: Settings) -> list[Path]:
    """The mappings directory, plus the tenant and pricing files when they live elsewhere."""
    root = settings.mappings_dir.resolve()
    extra = {(settings.tenants_file or demo_tenants_file()).resolve(), pricing_path(settings).resolve()}
    return [root, *sorted(path for path in extra if not path.is_relative_to(root))]


def _relevant(paths: Iterable[Path]) -> Callable[[watchfiles.Change, str], bool]:
    files = {path for path in paths if path.suffix}

    def keep(change: watchfiles.Change, name: str) -> bool:
        path = Path(name)
        return path in files or (path.suffix in READ_SUFFIXES and not path.name.startswith("."))

    return keep


class FileWatcher:
    def __init__(self, paths: list[Path], on_change: Callable[[], None], *, debounce_ms: int = 500) -> None:
        self._paths = paths
        self._on_change = on_change
        self._debounce_ms = debounce_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="config-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # A watched file (not directory) is watched through its directory: editors
        # replace files by renaming, which a watch on the file itself would lose.
        targets = sorted({path if path.is_dir() else path.parent for path in self._paths})
        for changes in watchfiles.watch(
            *targets,
            watch_filter=_relevant(self._paths),
            debounce=self._debounce_ms,
            stop_event=self._stop,
            raise_interrupt=False,
        ):
            _log.info("configuration files changed; reloading", files=len(changes))
            self._on_change()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
