"""Reporting PDT codes that reached no legacy code.

Every occurrence is counted in the metrics. The log gets the first sighting of
each (tenant, operation, table, code) and then one line per ``log_every``
occurrences with the running count: an unmapped code is usually a catalogue gap
that repeats on every request, and one line per request would drown the log and
cost each request a log write.
"""

from __future__ import annotations

from collections.abc import Iterable

from proxy.mapping.transforms import UnmappedCode
from proxy.observability.logging import get_logger
from proxy.observability.metrics import Metrics

__all__ = ["UnmappedReporter"]

_log = get_logger(__name__)
# Bounds the memory of sightings; past it, counting starts over (and logs again).
_MAX_KEYS = 10_000


class UnmappedReporter:
    def __init__(self, metrics: Metrics, *, log_every: int = 1000) -> None:
        self._metrics = metrics
        self._log_every = log_every
        self._seen: dict[tuple[str, str, str, str], int] = {}

    def report(self, *, tenant: str, operation: str, codes: Iterable[UnmappedCode]) -> None:
        for unmapped in codes:
            self._metrics.count_unmapped(
                tenant=tenant, operation=operation, table=unmapped.table, code=unmapped.code
            )
            key = (tenant, operation, unmapped.table, unmapped.code)
            count = self._seen.get(key, 0) + 1
            if len(self._seen) >= _MAX_KEYS and count == 1:
                self._seen.clear()
            self._seen[key] = count
            if count == 1 or count % self._log_every == 0:
                _log.warning(
                    "unmapped code",
                    tenant=tenant,
                    operation=operation,
                    table=unmapped.table,
                    code=unmapped.code,
                    occurrences=count,
                )
