"""Settings -> ledger store, ledger and pricing: the one place the backend is chosen."""

from __future__ import annotations

from pathlib import Path

from proxy.config import Settings
from proxy.db.factory import database_pool
from proxy.db.location import SQLITE_FILE, sqlite_path
from proxy.db.pool import PostgresPool
from proxy.ledger.ledger import DisabledLedger, Ledger, LedgerService
from proxy.ledger.postgres import PostgresStore
from proxy.ledger.pricing import Pricing, load_pricing
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from proxy.ledger.writer import CommitObserver
from proxy.observability.metrics import Metrics
from proxy.pdt_vocabulary import vocabulary_in

__all__ = [
    "SQLITE_FILE",
    "build_ledger",
    "build_store",
    "load_settings_pricing",
    "pricing_path",
    "store_backend",
]


def build_store(settings: Settings, *, pool: PostgresPool | None = None) -> LedgerStore:
    """The ledger's store on the proxy's database: on PostgreSQL through ``pool`` (the
    process's, shared with the state store), or a pool of its own when none is given
    (one-shot commands), which the store then closes."""
    ledger = settings.ledger
    if settings.database.dsn:
        own = pool is None
        return PostgresStore(pool or _own_pool(settings), owns_pool=own)
    return SqliteStore(
        sqlite_path(settings),
        synchronous=ledger.sqlite_synchronous,
        busy_timeout_ms=ledger.sqlite_busy_timeout_ms,
        auto_migrate=settings.database.auto_migrate,
    )


def _own_pool(settings: Settings) -> PostgresPool:
    pool = database_pool(settings)
    assert pool is not None  # a DSN is set
    return pool


def store_backend(store: LedgerStore) -> str:
    """The backend label of the ledger metrics: ``sqlite``, ``postgres``, or the class of
    a store a test injected."""
    if isinstance(store, PostgresStore):
        return "postgres"
    if isinstance(store, SqliteStore):
        return "sqlite"
    return type(store).__name__.lower()


def _commit_observer(metrics: Metrics, backend: str) -> CommitObserver:
    def observe(records: int, ok: bool) -> None:
        metrics.observe_ledger_commit(backend=backend, records=records, ok=ok)

    return observe


def build_ledger(
    settings: Settings,
    *,
    store: LedgerStore | None = None,
    pool: PostgresPool | None = None,
    metrics: Metrics | None = None,
) -> LedgerService:
    """The runtime's ledger; ``store`` lets tests inject a failing or recording store."""
    ledger = settings.ledger
    if not ledger.enabled:
        return DisabledLedger()
    chosen = store or build_store(settings, pool=pool)
    return Ledger(
        chosen,
        max_batch=ledger.max_batch,
        max_wait_s=ledger.max_wait_ms / 1000,
        commit_timeout_s=ledger.commit_timeout_s,
        on_commit=None if metrics is None else _commit_observer(metrics, store_backend(chosen)),
    )


def pricing_path(settings: Settings) -> Path:
    return settings.ledger.pricing_file or settings.mappings_dir / "billing" / "pricing.yaml"


def load_settings_pricing(settings: Settings) -> Pricing:
    # Module names are checked against the PDT vocabulary of the same mappings directory.
    return load_pricing(pricing_path(settings), vocabulary=vocabulary_in(settings.mappings_dir))
