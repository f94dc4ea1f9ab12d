"""The services a running proxy holds, built once at startup and closed at shutdown.

What the admin API, the cockpit and the replay tool read, and what ``start`` opens
and ``aclose`` closes. It is built by the composition root (``proxy.composition``);
the legacy surfaces take a narrower record of their own (``proxy.edge.legacy.deps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.seed import FilePlan, seed_plans
from proxy.autopilot.store import AutopilotStore
from proxy.comparison.rules import CompareRules
from proxy.config import Settings
from proxy.db.pool import PostgresPool
from proxy.ledger.ledger import LedgerService
from proxy.ledger.pricing import Pricing
from proxy.limits import Buckets
from proxy.live import LiveConfig
from proxy.live.reloader import ConfigReloader
from proxy.logins import Logins
from proxy.mapping.catalog import MappingCatalog
from proxy.observability.metrics import Metrics
from proxy.recording.recorder import Recorder
from proxy.stages.book import StageBook
from proxy.stages.control import StageControl
from proxy.stages.dispatch import Dispatcher
from proxy.stages.legacy_traffic import LegacyTraffic
from proxy.stages.pdt_path import PdtPath
from proxy.stages.shadow import ShadowRunner
from proxy.state.retention import ShadowRetention
from proxy.state.store import StateStore
from proxy.tenants import TenantDirectory
from proxy.upstream.legacy import LegacyClient
from proxy.upstream.pdt import PdtClient
from proxy.upstream.resilience import Resilience
from proxy.upstream.seam import UpstreamTransport

__all__ = ["Runtime"]


@dataclass(kw_only=True)
class Runtime:
    settings: Settings
    # The set requests are answered with (proxy/live); catalog, tenants, pricing and
    # compare_rules read its current value, so a reload needs no copy kept in step.
    live: LiveConfig
    pdt: PdtClient
    pdt_path: PdtPath
    metrics: Metrics
    ledger: LedgerService
    legacy: LegacyClient
    dispatcher: Dispatcher
    stages: StageBook
    state: StateStore
    stage_control: StageControl
    shadow: ShadowRunner | None
    recorder: Recorder
    legacy_traffic: LegacyTraffic
    retention: ShadowRetention
    resilience: Resilience
    # Shared counters (Redis) or this process's: tenant rate limits and login throttles.
    counters: Buckets
    logins: Logins
    # The upstream transport every client above sends through; closed last.
    transport: UpstreamTransport = field(repr=False)
    # The PostgreSQL pool the ledger, state store and recorder share (None on SQLite).
    database_pool: PostgresPool | None = None
    # The migration autopilot (proxy/autopilot): its store, evaluator and the tenant
    # file's plans to seed at start.
    autopilot: Autopilot | None = None
    autopilot_store: AutopilotStore | None = None
    file_plans: list[FilePlan] = field(default_factory=list)
    # The time every record and decision is stamped with: tests run on simulated days.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Reloads the set and follows the other replicas' reloads (proxy/live).
    reloader: ConfigReloader | None = None

    @property
    def catalog(self) -> MappingCatalog:
        return self.live.current.catalog

    @property
    def tenants(self) -> TenantDirectory:
        return self.live.current.tenants

    @property
    def pricing(self) -> Pricing:
        return self.live.current.pricing

    @property
    def compare_rules(self) -> CompareRules:
        return self.live.current.compare_rules

    async def start(self) -> None:
        """Open the database (migrated, or checked when auto_migrate is off) before
        listening: a database that cannot be reached, or whose schema this release
        cannot serve on, stops startup instead of failing every answer."""
        if self.database_pool is not None:
            await self.database_pool.open()
        await self.ledger.start()
        await self.state.open()
        await self.stage_control.start()
        if self.reloader is not None:
            await self.reloader.start()
        self.retention.start()
        if self.autopilot_store is not None:
            await self.autopilot_store.open()
            await seed_plans(self.autopilot_store, self.file_plans, now=self.clock())
        if self.autopilot is not None and self.settings.autopilot.enabled:
            self.autopilot.start()

    async def aclose(self) -> None:
        # Queued shadow samples may still run (they need PDT and the state store);
        # then the ledger: in-flight answers wait for their records (graceful
        # shutdown flushes), and nothing after this depends on it.
        try:
            if self.reloader is not None:
                await self.reloader.aclose()
            if self.shadow is not None:
                await self.shadow.drain(self.settings.shadow.drain_s)
            await self.recorder.aclose()
            if self.autopilot is not None:
                await self.autopilot.aclose()
            await self.stage_control.aclose()
            await self.retention.aclose()
            await self.ledger.aclose()
        finally:
            if self.autopilot_store is not None:
                await self.autopilot_store.close()
            await self.state.close()
            # Last of the database: the ledger and the state store returned their connections.
            if self.database_pool is not None:
                await self.database_pool.close()
            await self.pdt.aclose()
            await self.legacy.aclose()
            await self.counters.aclose()
        await self.transport.aclose()
