"""``serve --workers N``: uvicorn's process supervisor, telling the metrics which workers left.

uvicorn replaces a worker that dies or hangs (``keep_subprocess_alive``), on SIGHUP
(``restart_all``) and drops one on SIGTTOU, all from the supervisor's loop. The
multiprocess metrics need to hear of each departure (``forget_workers``) so a dead
worker's live gauges stop counting; uvicorn has no hook for it, so this subclass
compares the worker ids before and after each step of that loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from socket import socket

from uvicorn import Config
from uvicorn.supervisors import Multiprocess

from proxy.observability.multiprocess import forget_workers

__all__ = ["departed", "run_workers"]


def departed(before: set[int], after: set[int]) -> set[int]:
    """Worker ids present before a supervisor step and gone after it."""
    return before - after


class _Supervisor(Multiprocess):
    def __init__(self, config: Config, sockets: list[socket], metrics_dir: Path) -> None:
        super().__init__(config, sockets)
        self._metrics_dir = metrics_dir

    def _pids(self) -> set[int]:
        return {process.pid for process in self.processes if process.pid is not None}

    @contextmanager
    def _forgetting_departed(self) -> Iterator[None]:
        before = self._pids()
        try:
            yield
        finally:
            forget_workers(departed(before, self._pids()), self._metrics_dir)

    def keep_subprocess_alive(self) -> None:
        with self._forgetting_departed():
            super().keep_subprocess_alive()

    def handle_signals(self) -> None:
        with self._forgetting_departed():
            super().handle_signals()


def run_workers(config: Config, metrics_dir: Path, sockets: list[socket]) -> None:
    """What ``uvicorn.run`` does for ``workers > 1``, with the metrics-aware supervisor;
    every worker serves every socket (the public one, and the admin one when set)."""
    try:
        _Supervisor(config, sockets, metrics_dir).run()
    finally:
        for sock in sockets:
            sock.close()
