"""What still reaches the legacy backends, per tenant and product: for decommissioning.

Clients sometimes keep calling a legacy product "without knowing"; before a legacy
integration is switched off, the account team must see whether anything still goes
there. This process counts every call the legacy side answered and remembers the
last one; the admin API adds the month's count from the ledger (every worker's),
and Prometheus has the same per process (``pdt_proxy_legacy_calls_total`` and
``pdt_proxy_legacy_last_call_timestamp_seconds``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["LegacyTraffic"]


@dataclass
class _Seen:
    count: int
    last: datetime


class LegacyTraffic:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._seen: dict[tuple[str, str], _Seen] = {}

    def record(self, tenant: str, product: str) -> None:
        key = (tenant, product)
        seen = self._seen.get(key)
        if seen is None:
            self._seen[key] = _Seen(1, self._now())
        else:
            seen.count += 1
            seen.last = self._now()

    def of(self, tenant: str) -> dict[str, dict[str, Any]]:
        """``{product: {"count", "last_at"}}`` for ``tenant``, since this process started."""
        return {
            product: {"count": seen.count, "last_at": seen.last.isoformat()}
            for (owner, product), seen in sorted(self._seen.items())
            if owner == tenant
        }
