"""What the legacy surfaces use, and nothing else: not the whole runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from proxy.edge.legacy.outcome import Observer
from proxy.edge.rate_limit import TenantRateLimiter
from proxy.edge.tokens import LegacyTokens
from proxy.ledger.ledger import LedgerService
from proxy.live import LiveConfig
from proxy.logins import Logins
from proxy.observability.metrics import Metrics
from proxy.stages.book import StageBook
from proxy.stages.dispatch import Dispatcher

__all__ = ["LegacyDeps"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyDeps:
    # Routes, products, tenants and error families: read once per request from here.
    live: LiveConfig
    tokens: LegacyTokens
    logins: Logins
    rate_limiter: TenantRateLimiter
    stages: StageBook
    dispatcher: Dispatcher
    ledger: LedgerService
    metrics: Metrics
    # Told of every answered operation request, in this order, after the ledger.
    observers: tuple[Observer, ...]
    max_body_bytes: int
    max_json_depth: int
    # The operator's override of every family's declared token lifetime (None: declared).
    token_ttl_s: int | None
    clock: Callable[[], datetime]
