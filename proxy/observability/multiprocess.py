"""Metrics that cover every worker of ``pdt-proxy serve --workers N``.

Each uvicorn worker is its own process with its own counters, and a scrape reaches
whichever worker accepted the connection: without help, ``/metrics`` shows one
worker's share (measured: 40 requests answered, scrapes showing 19, 21, 19).

prometheus-client's multiprocess mode fixes that: every worker writes its values to
memory-mapped files in one directory, and the worker that answers a scrape reads all
of them. The library picks its value class once, when it is first imported, from
``PROMETHEUS_MULTIPROC_DIR``; uvicorn spawns its workers as fresh interpreters that
inherit the environment, so ``serve`` sets the variable (``private_directory``)
before they start. A single-process ``serve`` never sets it and keeps the plain
in-memory values.

Counters of a worker that exits stay in the directory (its requests did happen);
its ``live*`` gauges must go, or an in-flight count of a dead worker would be summed
forever: the supervisor calls ``forget_workers`` for each worker it loses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

__all__ = [
    "ENV_VARIABLE",
    "collect",
    "directory_from_environment",
    "forget_workers",
    "private_directory",
    "remove_abandoned",
]

ENV_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
_PREFIX: Final = "pdt-proxy-metrics-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_abandoned(parent: Path, *, running: Callable[[int], bool] = _running) -> list[Path]:
    """Remove the metrics directories of ``serve`` processes that died without cleaning up.

    A SIGKILLed ``serve`` leaves its directory behind; in a container whose /tmp
    outlives restarts (a pod's emptyDir), those would pile up. Each name carries
    the pid of the ``serve`` that made it, so a live one is never touched.
    """
    removed = []
    for path in parent.glob(f"{_PREFIX}*-*"):
        owner = path.name[len(_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not running(int(owner)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def directory_from_environment(environ: Mapping[str, str] | None = None) -> Path | None:
    """The shared metrics directory this process writes to, if it is a worker of a fleet of workers."""
    value = (os.environ if environ is None else environ).get(ENV_VARIABLE)
    return Path(value) if value else None


@contextmanager
def private_directory(environ: MutableMapping[str, str] | None = None) -> Iterator[Path]:
    """A fresh, empty directory only this user can read, named in the environment while open.

    Fresh on every start: files left by an earlier run (a reused directory) would add
    that run's counts to this one's; directories of earlier runs that were killed are
    removed first. Removed on the way out, and the variable put back as it was.
    """
    env = os.environ if environ is None else environ
    remove_abandoned(Path(tempfile.gettempdir()))
    # mkdtemp: created empty, mode 0700, a name no other process holds.
    path = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
    previous = env.get(ENV_VARIABLE)
    env[ENV_VARIABLE] = str(path)
    try:
        yield path
    finally:
        if previous is None:
            env.pop(ENV_VARIABLE, None)
        else:
            env[ENV_VARIABLE] = previous
        shutil.rmtree(path, ignore_errors=True)


def collect(directory: Path) -> bytes:
    """Every worker's metrics, merged, in the text exposition format."""
    # A fresh registry per scrape: the collector reads the files at collect time, and
    # this process's own registry holds only this worker's values.
    registry = CollectorRegistry()
    # prometheus-client ships these two functions without annotations.
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def forget_workers(pids: Iterable[int], directory: Path) -> None:
    """Drop the live gauges of workers that exited; their counters stay."""
    for pid in pids:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
