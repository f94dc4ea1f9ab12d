"""Everything a running proxy holds, built once at startup and closed at shutdown.

``build_runtime`` is where configuration becomes objects: it compiles the
mappings (refusing to start on a broken file), loads the tenants, derives the
legacy token key, mounts the PDT simulator when configured, opens the single
long-lived PDT HTTP client, and builds the usage ledger (store chosen by the
settings, pricing loaded and validated). Tests inject a transport here (httpx's
seam) and a ledger store instead of patching anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.factory import build_autopilot_store
from proxy.autopilot.plan import parse_defaults
from proxy.autopilot.seed import FilePlan, file_plans, seed_plans
from proxy.autopilot.store import AutopilotStore
from proxy.comparison.rules import CompareRules
from proxy.config import Settings
from proxy.db.factory import database_pool
from proxy.db.pool import PostgresPool
from proxy.edge.rate_limit import TenantRateLimiter
from proxy.edge.tokens import LegacyTokens
from proxy.edge.unmapped import UnmappedReporter
from proxy.keys import CANARY_KEY, TOKEN_KEY, load_key
from proxy.ledger.factory import build_ledger
from proxy.ledger.ledger import LedgerService
from proxy.ledger.pricing import Pricing
from proxy.ledger.store import LedgerStore
from proxy.limits import Buckets, build_buckets
from proxy.live import LiveConfig, load_config_set
from proxy.live.followers import follow_live_config
from proxy.live.reloader import ConfigReloader
from proxy.logins import Logins, LoginThrottle, VerifiedSecrets
from proxy.mapping.catalog import MappingCatalog
from proxy.observability.logging import get_logger
from proxy.observability.metrics import Metrics
from proxy.observability.stages import stage_rows
from proxy.replay.reanswer import Reanswerer
from proxy.replay.recorder import Recorder
from proxy.simulators.legacy import accounts_from_tenants, create_legacy_simulator
from proxy.simulators.pdt import create_pdt_simulator
from proxy.stages.book import StageBook
from proxy.stages.control import StageControl
from proxy.stages.dispatch import Answer, Dispatcher, Exchange
from proxy.stages.legacy_traffic import LegacyTraffic
from proxy.stages.pdt_path import PdtPath
from proxy.stages.shadow import ShadowRunner
from proxy.state.factory import build_state_store
from proxy.state.retention import ShadowRetention
from proxy.state.sink import StoreShadowSink
from proxy.state.store import StateStore
from proxy.tenants import TenantDirectory
from proxy.upstream.legacy import LegacyClient
from proxy.upstream.pdt import PdtClient
from proxy.upstream.resilience import Resilience
from proxy.upstream.transport import build_transport, resolve_base_url

__all__ = ["Runtime", "build_runtime"]

_log = get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    # The set requests are answered with (proxy/live); catalog, tenants, pricing and
    # compare_rules below are its first value.
    live: LiveConfig
    catalog: MappingCatalog
    tenants: TenantDirectory
    tokens: LegacyTokens
    pdt: PdtClient
    pdt_path: PdtPath
    metrics: Metrics
    unmapped: UnmappedReporter
    _transport: httpx.AsyncBaseTransport = field(repr=False)
    ledger: LedgerService
    pricing: Pricing
    legacy: LegacyClient
    dispatcher: Dispatcher
    stages: StageBook
    state: StateStore
    stage_control: StageControl
    compare_rules: CompareRules
    shadow: ShadowRunner | None
    recorder: Recorder
    legacy_traffic: LegacyTraffic
    retention: ShadowRetention
    resilience: Resilience
    rate_limiter: TenantRateLimiter
    # Shared counters (Redis) or this process's: tenant rate limits and login throttles.
    counters: Buckets
    logins: Logins
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
        await self._transport.aclose()


def _legacy_tokens(settings: Settings, catalog: MappingCatalog) -> LegacyTokens:
    security = settings.security
    key = load_key(
        TOKEN_KEY, security.token_key, settings.data_dir, shared_database=bool(settings.database.dsn)
    )
    # Each login passes its family's lifetime; this default (the shortest declared)
    # only serves callers that do not.
    declared_ttl_s = min(
        product.spec.authentication.token_lifetime.seconds for product in catalog.products.values()
    )
    return LegacyTokens(
        key,
        previous_keys=[previous.encode() for previous in security.previous_token_keys],
        ttl_s=security.legacy_token_ttl_s or declared_ttl_s,
    )


def build_runtime(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    ledger_store: LedgerStore | None = None,
    state_store: StateStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Runtime:
    # Before any connection is opened: a broken mapping, tenant, pricing or
    # comparison file stops startup.
    live = LiveConfig(load_config_set(settings))
    config = live.current
    catalog, pricing, tenants = config.catalog, config.pricing, config.tenants
    tokens = _legacy_tokens(settings, catalog)
    if transport is None:
        transport = _transport(settings, catalog, tenants)
    metrics = Metrics()
    # One guard per process for every upstream host: breakers and retry budgets.
    resilience = Resilience(settings.resilience, metrics)
    pdt = PdtClient(transport, settings.pdt, resilience=resilience, vocabulary=catalog.pdt)
    legacy = LegacyClient(
        transport,
        {name: resolve_base_url(environment) for name, environment in settings.legacy.environments.items()},
        settings.legacy.timeouts,
        product_base_urls={
            (product, name): resolve_base_url(environment)
            for product, environments in settings.legacy.products.items()
            for name, environment in environments.items()
        },
        token_refresh_margin_s=settings.legacy.token_refresh_margin_s,
        resilience=resilience,
    )
    pdt_path = PdtPath(pdt)
    dispatcher = Dispatcher(
        pdt_path,
        legacy,
        deadline_s=settings.pdt.request_deadline_s,
        max_json_depth=settings.server.max_json_depth,
        canary_key=load_key(
            CANARY_KEY,
            settings.security.canary_key,
            settings.data_dir,
            shared_database=bool(settings.database.dsn),
        ),
    )
    compare_rules = config.compare_rules
    # One pool per process for every store on PostgreSQL; closed by Runtime.aclose.
    pool = database_pool(settings)
    state = state_store or build_state_store(settings, pool=pool)
    stages = StageBook(tenants)
    metrics.track_stages(lambda: stage_rows(stages))
    now = clock or (lambda: datetime.now(UTC))

    async def shadow_pdt_side(exchange: Exchange, stage: str) -> Answer:
        # Nothing the end customer would notice twice (a second SMS): legacy sent its own.
        return await dispatcher.pdt_side(exchange, stage, side_effects=False)

    counters = build_buckets(
        settings.redis, max_keys=settings.logins.throttle_max_keys, on_fallback=metrics.count_limit_fallback
    )
    shadow = ShadowRunner(
        shadow_pdt_side,
        compare_rules,
        StoreShadowSink(state),
        metrics,
        sample_rate=settings.shadow.sample_rate,
        queue_size=settings.shadow.queue_size,
        workers=settings.shadow.workers,
        timeout_s=settings.shadow.timeout_s,
        now=now,
    )
    stage_control = StageControl(stages, state, now=now)
    autopilot_store = build_autopilot_store(settings, pool=pool)
    defaults = parse_defaults(compare_rules.autopilot)
    autopilot = Autopilot(
        autopilot_store,
        state,
        stage_control,
        compare_rules,
        defaults,
        metrics,
        clock=now,
        every_s=settings.autopilot.evaluate_every_s,
    )
    runtime = Runtime(
        settings,
        live,
        catalog,
        tenants,
        tokens,
        pdt,
        pdt_path,
        metrics,
        UnmappedReporter(metrics),
        transport,
        ledger=build_ledger(settings, store=ledger_store, pool=pool, metrics=metrics),
        pricing=pricing,
        legacy=legacy,
        dispatcher=dispatcher,
        stages=stages,
        state=state,
        stage_control=stage_control,
        compare_rules=compare_rules,
        shadow=shadow,
        legacy_traffic=LegacyTraffic(),
        retention=ShadowRetention(
            state,
            keep_days=settings.shadow.retention_days,
            recorded_keep_days=settings.recorder.keep_days if settings.recorder.enabled else None,
        ),
        resilience=resilience,
        rate_limiter=TenantRateLimiter(settings.server.tenant_rate_limit, counters),
        counters=counters,
        logins=_logins(settings, counters, metrics),
        recorder=Recorder.from_settings(
            settings.recorder,
            settings.data_dir,
            state,
            reanswer=_reanswerer(settings, dispatcher),
            shared_database=bool(settings.database.dsn),
        ),
        database_pool=pool,
        autopilot=autopilot,
        autopilot_store=autopilot_store,
        file_plans=file_plans(tenants.tenants.values(), defaults),
        clock=now,
    )
    runtime.reloader = follow_live_config(runtime, transport=transport)
    return runtime


def _logins(settings: Settings, counters: Buckets, metrics: Metrics) -> Logins:
    config = settings.logins
    return Logins(
        VerifiedSecrets(ttl_s=config.cache_minutes * 60, max_users=config.cache_max_users),
        LoginThrottle(counters, per_user=config.throttle_per_user, per_address=config.throttle_per_address),
        metrics,
    )


def _reanswerer(settings: Settings, dispatcher: Dispatcher) -> Reanswerer | None:
    """Re-ask the built-in legacy simulator for masked requests (never a real backend)."""
    if not settings.legacy.all_simulator:
        return None

    async def ask(exchange: Exchange) -> Answer:
        return await dispatcher.legacy_side(exchange, "record")

    return Reanswerer(ask)


def _transport(
    settings: Settings, catalog: MappingCatalog, tenants: TenantDirectory
) -> httpx.AsyncBaseTransport:
    """The routing transport, with the built-in simulators mounted where configured."""
    simulator = None
    if settings.pdt.uses_simulator:
        accounts = {
            credential.username: credential.password
            for tenant in tenants.tenants.values()
            for environment, credential in tenant.credentials.items()
            if settings.pdt.environments[environment].is_simulator
        }
        simulator = create_pdt_simulator(
            settings.simulator,
            catalogue_path=settings.mappings_dir / "pdt" / "insights.csv",
            accounts=accounts,
            vocabulary=catalog.pdt,
        )
    legacy_simulator = None
    if settings.legacy.uses_simulator:
        legacy_accounts, grants = accounts_from_tenants(tenants)
        legacy_simulator = create_legacy_simulator(
            settings.legacy.simulator, catalog=catalog, accounts=legacy_accounts, grants=grants
        )
    return build_transport(
        settings.pdt, simulator_app=simulator, legacy=settings.legacy, legacy_app=legacy_simulator
    )
