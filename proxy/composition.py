"""The composition root: where configuration becomes a running proxy.

``assemble`` compiles the mappings (refusing to start on a broken file), loads the
tenants, derives the legacy token key, mounts the simulators when configured, opens
the single long-lived upstream client, and builds the usage ledger (store chosen by
the settings, pricing loaded and validated). ``create_app`` puts the ASGI layers
around the legacy surfaces and the operations app; ``create_app_from_environment``
is the factory uvicorn imports in each worker. Tests inject a transport (httpx's
seam) and a ledger store here instead of patching anything.

Only the entry points import this module (the CLI, the replay tool's in-process
target, load tools and tests): nothing it builds knows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from starlette.types import ASGIApp

from proxy.admin.auth import AdminAuth
from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.factory import build_autopilot_store
from proxy.autopilot.seed import file_plans
from proxy.autopilot_plan import parse_defaults
from proxy.config import Settings, load_settings
from proxy.db.factory import database_pool
from proxy.edge.admission import AdmissionControl
from proxy.edge.legacy.deps import LegacyDeps
from proxy.edge.legacy.observers.access_log import AccessLog
from proxy.edge.legacy.observers.legacy_traffic import LegacyTrafficObserver
from proxy.edge.legacy.observers.metrics import MetricsObserver
from proxy.edge.legacy.observers.recorder import RecorderObserver
from proxy.edge.legacy.observers.shadow import ShadowObserver
from proxy.edge.legacy.observers.unmapped import UnmappedObserver
from proxy.edge.legacy.observers.upstream_failures import UpstreamFailureLog
from proxy.edge.legacy.outcome import Observer
from proxy.edge.legacy.pipeline import LegacySurface
from proxy.edge.listeners import ListenerSplit
from proxy.edge.operations import operations_app
from proxy.edge.rate_limit import TenantRateLimiter
from proxy.edge.request_span import RequestSpans
from proxy.edge.root import ProxyApp
from proxy.edge.tokens import LegacyTokens
from proxy.edge.unmapped import UnmappedReporter
from proxy.followers import follow_live_config
from proxy.http.errors import ErrorFamilies
from proxy.keys import CANARY_KEY, TOKEN_KEY, load_key
from proxy.ledger.factory import build_ledger
from proxy.ledger.store import LedgerStore
from proxy.limits import Buckets, build_buckets
from proxy.live import LiveConfig, load_config_set
from proxy.logins import Logins, LoginThrottle, VerifiedSecrets
from proxy.mapping.catalog import MappingCatalog
from proxy.observability import tracing
from proxy.observability.logging import configure_logging, get_logger
from proxy.observability.metrics import Metrics
from proxy.observability.startup import summarise
from proxy.recording.reanswer import Reanswerer
from proxy.recording.recorder import Recorder
from proxy.runtime import Runtime
from proxy.simulators.legacy import accounts_from_tenants, create_legacy_simulator
from proxy.simulators.pdt import create_pdt_simulator
from proxy.stages.book import StageBook, stage_rows
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
from proxy.upstream.httpx_adapter import as_upstream
from proxy.upstream.legacy import LegacyClient
from proxy.upstream.pdt import PdtClient
from proxy.upstream.resilience import Resilience
from proxy.upstream.seam import UpstreamTransport
from proxy.upstream.transport import build_transport, resolve_base_url

__all__ = ["Assembly", "assemble", "build_runtime", "create_app", "create_app_from_environment"]

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assembly:
    runtime: Runtime
    legacy: LegacyDeps


def create_app(
    settings: Settings,
    *,
    transport: UpstreamTransport | httpx.AsyncBaseTransport | None = None,
    ledger_store: LedgerStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ProxyApp:
    """The whole proxy as one ASGI app; builds everything now, so a broken file stops startup."""
    assembly = assemble(settings, transport=transport, ledger_store=ledger_store, clock=clock)
    runtime, legacy = assembly.runtime, assembly.legacy
    families = ErrorFamilies(runtime.catalog.products.values())
    operations = operations_app(runtime, AdminAuth.from_settings(settings))
    app: ASGIApp = LegacySurface(legacy, other=operations)
    app = AdmissionControl(
        app, max_in_flight=settings.server.max_in_flight, families=families, metrics=runtime.metrics
    )
    # Only when tracing is on (OTEL_* variables, read once per process): off, the
    # request path does not even pass through the layer.
    tracing.configure_from_environment()
    tracer = tracing.STATE.tracer
    if tracer is not None:
        app = RequestSpans(app, families=families, tracer=tracer)
    if settings.server.admin_port is not None:
        # Outermost: the other listener's paths do not exist here.
        app = ListenerSplit(app, admin_port=settings.server.admin_port)
    return ProxyApp(
        app,
        runtime=runtime,
        legacy=legacy,
        operations=operations,
        on_started=lambda: _log_configuration(runtime),
    )


def create_app_from_environment() -> ProxyApp:
    """uvicorn factory for ``--workers N``: each worker reads the same configuration."""
    settings = load_settings()
    configure_logging(settings.logging)
    return create_app(settings)


def _log_configuration(runtime: Runtime) -> None:
    """The startup line: what this process runs with (``proxy.observability.startup``)."""
    summary = summarise(
        runtime.settings,
        products=runtime.catalog.products,
        tenant_stages={row["tenant"]: row["stage"] for row in runtime.stages.describe()},
        tracing_on=tracing.STATE.tracer is not None,
    )
    _log.info("configuration", **summary)


def assemble(
    settings: Settings,
    *,
    transport: UpstreamTransport | httpx.AsyncBaseTransport | None = None,
    ledger_store: LedgerStore | None = None,
    state_store: StateStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Assembly:
    """Every service, and the legacy surfaces' share of them."""
    # Before any connection is opened: a broken mapping, tenant, pricing or
    # comparison file stops startup.
    live = LiveConfig(load_config_set(settings))
    config = live.current
    catalog, tenants = config.catalog, config.tenants
    tokens = _legacy_tokens(settings, catalog)
    # A test may hand an httpx fake: adapted to the upstream seam like any transport.
    transport = _transport(settings, catalog, tenants) if transport is None else as_upstream(transport)
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
        settings=settings,
        live=live,
        pdt=pdt,
        pdt_path=pdt_path,
        metrics=metrics,
        transport=transport,
        ledger=build_ledger(settings, store=ledger_store, pool=pool, metrics=metrics),
        legacy=legacy,
        dispatcher=dispatcher,
        stages=stages,
        state=state,
        stage_control=stage_control,
        shadow=shadow,
        legacy_traffic=LegacyTraffic(),
        retention=ShadowRetention(
            state,
            keep_days=settings.shadow.retention_days,
            recorded_keep_days=settings.recorder.keep_days if settings.recorder.enabled else None,
        ),
        resilience=resilience,
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
    # Every reload (here, SIGHUP, a file watch or another replica's) swaps the set
    # whole; the parts derived from it follow (proxy/followers.py).
    runtime.reloader = follow_live_config(runtime, transport=transport)
    return Assembly(runtime=runtime, legacy=_legacy_deps(runtime, tokens))


def build_runtime(
    settings: Settings,
    *,
    transport: UpstreamTransport | httpx.AsyncBaseTransport | None = None,
    ledger_store: LedgerStore | None = None,
    state_store: StateStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Runtime:
    """The services alone (the replay tool, tests of the runtime): no surface to serve."""
    return assemble(
        settings, transport=transport, ledger_store=ledger_store, state_store=state_store, clock=clock
    ).runtime


def _legacy_deps(runtime: Runtime, tokens: LegacyTokens) -> LegacyDeps:
    settings = runtime.settings
    observers: list[Observer] = [
        UnmappedObserver(UnmappedReporter(runtime.metrics)),
        LegacyTrafficObserver(runtime.legacy_traffic, runtime.metrics),
    ]
    if runtime.shadow is not None:
        observers.append(ShadowObserver(runtime.shadow))
    observers += [
        RecorderObserver(runtime.recorder),
        UpstreamFailureLog(),
        MetricsObserver(runtime.metrics),
        AccessLog(),
    ]
    return LegacyDeps(
        live=runtime.live,
        tokens=tokens,
        logins=runtime.logins,
        rate_limiter=TenantRateLimiter(settings.server.tenant_rate_limit, runtime.counters),
        stages=runtime.stages,
        dispatcher=runtime.dispatcher,
        ledger=runtime.ledger,
        metrics=runtime.metrics,
        observers=tuple(observers),
        max_body_bytes=settings.server.max_body_bytes,
        max_json_depth=settings.server.max_json_depth,
        token_ttl_s=settings.security.legacy_token_ttl_s,
        clock=runtime.clock,
    )


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


def _transport(settings: Settings, catalog: MappingCatalog, tenants: TenantDirectory) -> UpstreamTransport:
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
