"""One immutable, typed settings object, built once at startup.

Sources, later ones winning: the defaults written here, a YAML file (``--config``
or ``PROXY_CONFIG``), then environment variables for secrets and the few values an
operator changes per deployment (``PROXY_TOKEN_KEY``, ``PROXY_ADMIN_TOKEN``,
``PROXY_DATA_DIR``, ``PROXY_TENANTS_FILE``, ``PROXY_DATABASE_DSN``). Every default
carries its reason.

A PDT base URL of ``simulator`` means the built-in PDT simulator, mounted in
process: the embedded default that makes the proxy runnable on a laptop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from proxy.errors import ConfigError
from proxy.yaml_files import load_yaml

__all__ = [
    "SIMULATOR",
    "BreakerSettings",
    "DatabaseSettings",
    "Environment",
    "LedgerSettings",
    "LegacyEnvironment",
    "LegacySettings",
    "LegacySimulatorSettings",
    "LoggingSettings",
    "LoginSettings",
    "LoginThrottleSettings",
    "PdtEnvironment",
    "PdtSettings",
    "PoolSettings",
    "RateLimitSettings",
    "RecorderSettings",
    "RedisSettings",
    "ResilienceSettings",
    "RetrySettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "ShadowSettings",
    "SimulatorSettings",
    "TimeoutSettings",
    "load_settings",
    "project_root",
]

SIMULATOR = "simulator"
Environment = Literal["prd", "hml"]


def project_root() -> Path:
    """The directory that holds ``mappings/`` and ``config/``.

    ``PROXY_HOME`` when set (an installed wheel lives in site-packages, away from
    its data: the container image sets it), else the checkout this file is in.
    """
    home = os.environ.get("PROXY_HOME")
    return Path(home) if home else Path(__file__).resolve().parent.parent


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BreakerSettings(_Frozen):
    """A circuit breaker per upstream host (``proxy.upstream.breaker``)."""

    # Ten seconds of traffic judge a host: long enough to smooth a burst of bad luck,
    # short enough that an outage is noticed before the clients' own retries pile up.
    window_s: float = Field(default=10.0, gt=0)
    # Below this many calls in the window a ratio means little (a quiet tenant's two
    # failures are not an outage)...
    min_calls: int = Field(default=20, ge=1)
    # ...above it, half the calls failing opens the circuit. The chaos run's 30 %
    # injected errors stay below it on purpose: degraded is not down.
    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    # A dead host fails every call: this many in a row open it whatever the ratio.
    consecutive_failures: int = Field(default=10, ge=1)
    # How long an open circuit refuses calls before probing the host again.
    open_s: float = Field(default=5.0, gt=0)
    # Calls let through at once to probe a host that may be back.
    half_open_probes: int = Field(default=2, ge=1)


class RetrySettings(_Frozen):
    """Retries of calls that are safe to repeat (``proxy.upstream.retry``)."""

    # One retry: a second failure in a row is an outage, not noise.
    max_retries: int = Field(default=1, ge=0, le=5)
    # Full-jitter backoff between 0 and min(max, base * 2**attempt).
    base_backoff_ms: float = Field(default=25.0, ge=0)
    max_backoff_ms: float = Field(default=250.0, ge=0)
    # Retries may add at most a fifth to a host's traffic, plus a small floor per
    # second so a quiet host can still retry a lone failure.
    budget_ratio: float = Field(default=0.2, ge=0, le=1)
    budget_min_per_s: float = Field(default=5.0, ge=0)
    # A 429 asking for a longer wait than this is answered at once (legacy 503):
    # the legacy client's own patience is a few seconds.
    max_retry_after_s: float = Field(default=1.0, ge=0)
    # No retry is started with less than this left of the request's deadline.
    min_attempt_s: float = Field(default=0.2, ge=0)


class ResilienceSettings(_Frozen):
    """The same rules for every upstream host, PDT and legacy alike."""

    breaker: BreakerSettings = BreakerSettings()
    retry: RetrySettings = RetrySettings()


class RateLimitSettings(_Frozen):
    """Requests per second one tenant may send, per worker (a token bucket)."""

    # Generous by default: the largest legacy account sends tens per second at peak;
    # the limit is there so one tenant's runaway loop cannot starve the others.
    requests_per_s: float = Field(default=200.0, gt=0)
    # Short bursts above the rate (a batch of onboarding checks) pass.
    burst: int = Field(default=400, ge=1)


class ServerSettings(_Frozen):
    # Loopback by default: a fresh install must not expose bank traffic to the network.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    # Legacy bodies are a few hundred bytes; 64 KiB leaves room for long address
    # lists while refusing anything that only a hostile client would send.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # JSON nesting deeper than any legacy contract (3 levels) plus margin.
    max_json_depth: int = Field(default=16, ge=4)
    # Legacy requests being answered at once, per worker; past this the family's 503
    # answers at once instead of every request queueing behind a saturated loop.
    max_in_flight: int = Field(default=1024, ge=1)
    # Per tenant, per worker; a tenant entry's ``rate_limit`` overrides it.
    tenant_rate_limit: RateLimitSettings = RateLimitSettings()
    # How long SIGTERM waits for in-flight requests before closing them.
    graceful_shutdown_s: int = Field(default=10, ge=1)
    # None = the admin API and /metrics share the public port (/metrics then needs a
    # viewer token). A port = they move there (proxy/edge/listeners.py), /metrics open
    # to whoever reaches that port (a scraper inside the cluster, a port-forward).
    admin_port: int | None = Field(default=None, ge=1, le=65535)

    @model_validator(mode="after")
    def _admin_port_of_its_own(self) -> ServerSettings:
        if self.admin_port == self.port:
            raise ValueError("admin_port must differ from port")
        return self


class TimeoutSettings(_Frozen):
    # Connecting to PDT in the same region takes a few ms; a second means it is down.
    connect_s: float = Field(default=1.0, gt=0)
    # PDT modules answer in tens to hundreds of ms; 5 s bounds a stuck module.
    read_s: float = Field(default=5.0, gt=0)
    write_s: float = Field(default=5.0, gt=0)
    # Waiting for a free pooled connection longer than this means we are saturated.
    pool_s: float = Field(default=1.0, gt=0)


class PoolSettings(_Frozen):
    # Keep-alive cap equal to the connection cap: a lower cap churns TCP connections
    # under sustained load (httpx's 20 default evicts idle connections early).
    max_connections: int = Field(default=200, ge=1)
    keepalive_expiry_s: float = Field(default=30.0, gt=0)


class TlsSettings(_Frozen):
    """How the proxy checks an upstream host, and proves itself to it (mTLS)."""

    # PEM file of the CAs this host's certificate must chain to (a bank's or PDT's
    # private CA). None = the public CAs (certifi), as for any public HTTPS host.
    ca_bundle: Path | None = None
    # PEM client certificate (and its key, unless the same file holds both) for a
    # host that asks for one. None = no client certificate.
    client_cert: Path | None = None
    client_key: Path | None = None

    @model_validator(mode="after")
    def _key_needs_a_certificate(self) -> TlsSettings:
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("client_key is set without client_cert")
        return self


class _UpstreamEnvironment(_Frozen):
    # ``simulator`` = the built-in simulator in process; otherwise an http(s) URL.
    base_url: str = SIMULATOR
    tls: TlsSettings = TlsSettings()

    @field_validator("base_url")
    @classmethod
    def _url_or_simulator(cls, value: str) -> str:
        if value != SIMULATOR and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'simulator' or an http(s) URL")
        return value.rstrip("/")

    @property
    def is_simulator(self) -> bool:
        return self.base_url == SIMULATOR


class PdtEnvironment(_UpstreamEnvironment):
    """One PDT environment (PRD or HML): the built-in PDT simulator or a PDT host."""


def _simulator_environments() -> dict[Environment, PdtEnvironment]:
    return {"prd": PdtEnvironment(), "hml": PdtEnvironment()}


class PdtSettings(_Frozen):
    # Legacy PRD callers are answered by PDT PRD, HML callers by PDT HML: the
    # legacy path prefix decides the environment, as the legacy hosts did.
    environments: dict[Environment, PdtEnvironment] = Field(default_factory=lambda: _simulator_environments())
    timeouts: TimeoutSettings = TimeoutSettings()
    pool: PoolSettings = PoolSettings()
    # Refresh a PDT token this long before it expires so no call races the expiry.
    token_refresh_margin_s: float = Field(default=60.0, ge=0)
    # A legacy fraud check sits in an onboarding flow; past 8 s the client has given up.
    request_deadline_s: float = Field(default=8.0, gt=0)

    @property
    def uses_simulator(self) -> bool:
        return any(env.is_simulator for env in self.environments.values())

    @property
    def all_simulator(self) -> bool:
        return all(env.is_simulator for env in self.environments.values())


class SimulatorSettings(_Frozen):
    # Zero latency by default so the embedded proxy feels instant on a laptop.
    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    fault_rate: float = Field(default=0.0, ge=0, le=1)
    token_ttl_s: int = Field(default=7200, ge=1)


class LegacySimulatorSettings(_Frozen):
    """The built-in legacy simulator (``proxy/simulators/legacy``)."""

    # Share of people whose legacy answer differs a little from what PDT says about
    # them. Two scoring engines never agree on everyone; one person in ten keeps the
    # backtest report honest without drowning the agreement it is meant to show.
    disagreement_rate: float = Field(default=0.1, ge=0, le=1)
    # Key of the hash that picks who disagrees and how. Changing it picks other
    # people; the same key always picks the same ones (no randomness per call).
    disagreement_key: str = Field(default="pdt-proxy/simulator/legacy-disagreement/v1", min_length=1)
    # How far a disagreeing score moves (whole points, either way): "a little".
    max_score_shift: int = Field(default=5, ge=1, le=20)

    # Zero latency and no faults by default, as the PDT simulator: a laptop run feels instant.
    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    # Share of legacy calls answered with the family's 503 body.
    fault_rate: float = Field(default=0.0, ge=0, le=1)
    # Share of legacy calls held for ``timeout_ms`` and then answered with the
    # family's 504 body: long enough for a caller's own timeout to fire first.
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_ms: float = Field(default=30_000.0, ge=0)
    # Fixes the latency jitter and the fault draws, so a benchmark replays the same run.
    seed: int | None = None

    # Legacy clients reuse a token until it expires; one hour, as the legacy APIs.
    token_ttl_s: int = Field(default=3600, ge=1)
    # Lifetime of a Data Trust 2FA code and of Mobile Trust's SMS; five minutes is
    # the usual for SMS codes (and the PDT simulator's).
    code_ttl_s: float = Field(default=300.0, gt=0)
    # When the end customer answers Mobile Trust's SMS, if they do at all.
    sms_reply_after_s: float = Field(default=30.0, ge=0)
    # Enough for a long benchmark's working set; a transaction costs about a KiB.
    max_transactions: int = Field(default=100_000, ge=1)
    # The proxy's own limits (proxy.config.ServerSettings): same 413 and 400 answers.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_json_depth: int = Field(default=16, ge=4)


class LegacyEnvironment(_UpstreamEnvironment):
    """One legacy environment: the built-in legacy simulator, or the legacy host of that
    environment, e.g. https://api.clearsale.com.br (PRD) or
    https://homologacao.clearsale.com.br (HML). The legacy path prefix is part of each
    forwarded path, exactly as the client sent it."""


def _legacy_simulators() -> dict[Environment, LegacyEnvironment]:
    return {"prd": LegacyEnvironment(), "hml": LegacyEnvironment()}


class LegacySettings(_Frozen):
    """The legacy backends the legacy, shadow, canary and fallback stages call."""

    environments: dict[Environment, LegacyEnvironment] = Field(default_factory=lambda: _legacy_simulators())
    # A product served from another host than its environment's (the legacy APIs
    # shared api.clearsale.com.br, but a bank's FFR may sit elsewhere):
    # ``products: {ffr: {prd: {base_url: ...}}}`` wins over ``environments``.
    products: dict[str, dict[Environment, LegacyEnvironment]] = Field(default_factory=dict)
    # The legacy APIs answered in hundreds of ms; the same bounds as PDT's.
    timeouts: TimeoutSettings = TimeoutSettings()
    token_refresh_margin_s: float = Field(default=60.0, ge=0)
    simulator: LegacySimulatorSettings = LegacySimulatorSettings()

    def environment_for(self, product: str, environment: Environment) -> LegacyEnvironment | None:
        return self.products.get(product, {}).get(environment) or self.environments.get(environment)

    def all_environments(self) -> list[tuple[str, LegacyEnvironment]]:
        """Every configured backend with a name for messages: what the transport must route."""
        found = [(f"environments.{name}", env) for name, env in self.environments.items()]
        for product, environments in self.products.items():
            found.extend((f"products.{product}.{name}", env) for name, env in environments.items())
        return found

    @property
    def uses_simulator(self) -> bool:
        return any(env.is_simulator for _, env in self.all_environments())

    @property
    def all_simulator(self) -> bool:
        return all(env.is_simulator for _, env in self.all_environments())


class ShadowSettings(_Frozen):
    """The shadow stage's PDT side: sampled, bounded, with its own deadline."""

    # Every request by default: a backtest wants coverage. PDT calls cost money, so
    # a large tenant's operator lowers this (0.1 = one request in ten).
    sample_rate: float = Field(default=1.0, ge=0, le=1)
    # Requests waiting for their PDT side; past this, samples are dropped (counted)
    # rather than memory growing under a burst.
    queue_size: int = Field(default=1000, ge=1)
    # PDT calls in flight for the shadow at once, per worker.
    workers: int = Field(default=8, ge=1, le=256)
    # The shadow side's own deadline: a slow PDT never holds a worker for long.
    timeout_s: float = Field(default=5.0, gt=0)
    # At shutdown, how long queued samples may still run before they are dropped.
    drain_s: float = Field(default=5.0, ge=0)
    # Shadow results older than this are pruned (a backtest covers weeks, not years).
    retention_days: int = Field(default=90, ge=1)


class RecorderSettings(_Frozen):
    """The recorder of legacy exchanges (``proxy.recording``), off unless asked for."""

    # Off by default: a corpus holds (pseudonymised) customer traffic; recording it
    # is a decision the operator takes per deployment, not something a fresh
    # install does behind their back.
    enabled: bool = False
    # Share of recordable exchanges written. A corpus needs a few thousand varied
    # requests, not every one: 1% of a busy tenant's day is plenty.
    sample_rate: float = Field(default=0.01, ge=0, le=1)
    # Recorded exchanges live in the proxy's database (every replica's, for
    # ``record export``) and are deleted after this many days: a replay wants
    # recent traffic, and pseudonymised traffic is still kept no longer than needed.
    keep_days: int = Field(default=30, ge=1, le=3650)
    # Corpus files (``proxy.replay.files``) rotate at this size, up to max_files
    # rotated files: used by no recorder since recorded traffic moved to the
    # database, still accepted so that existing settings files keep loading.
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=4096)
    max_files: int = Field(default=8, ge=0, le=1000)
    # Exchanges waiting to be masked and written. Full = the writer is behind (slow
    # disk): the exchange is dropped and counted, the client never waits.
    queue_size: int = Field(default=1024, ge=1, le=1_000_000)
    # Under the proxy's data_dir: the corpus key file, and corpus files written by
    # releases before the database held the corpus (``record export`` still reads them).
    directory: str = Field(default="corpus", min_length=1, pattern=r"^[A-Za-z0-9._\-]+$")
    # The pseudonym key (at least 16 bytes). None = $PROXY_CORPUS_KEY, else a key
    # file created once under the corpus directory. Its own key, not the token key:
    # rotating the token key must not change every pseudonym (replays compare
    # across weeks), and a leaked corpus key must not let anyone forge tokens.
    key: str | None = Field(default=None, repr=False)


class SecuritySettings(_Frozen):
    # Legacy clients reuse a token until it expires. None = each family's lifetime as
    # declared (with its evidence) in mappings/<product>/product.yaml; a number
    # overrides them all.
    legacy_token_ttl_s: int | None = Field(default=None, ge=60, le=86400)
    # Shared HMAC key for legacy tokens; any replica with it verifies any token.
    # None = read PROXY_TOKEN_KEY, else a key file created once under data_dir (one
    # host only: on a shared database an unset key stops startup; proxy/keys.py).
    token_key: str | None = Field(default=None, repr=False)
    # Keys rotated out that still verify the tokens they signed (PROXY_TOKEN_KEYS_PREVIOUS,
    # comma-separated). Keep one for a token lifetime after the switch, then drop it.
    previous_token_keys: tuple[str, ...] = Field(default=(), repr=False)
    # Places end customers in canary buckets; its own key so a token-key rotation does
    # not move customers between PDT and legacy mid-canary. None = PROXY_CANARY_KEY,
    # else a key file under data_dir (one host only, as for token_key).
    canary_key: str | None = Field(default=None, repr=False)
    admin_token: str | None = Field(default=None, repr=False)
    # YAML list of {actor, role, token_sha256} (proxy/admin/auth.py): one token per
    # person or system, each with a role; the audit names the token's actor.
    admin_tokens_file: Path | None = None

    @field_validator("previous_token_keys", mode="before")
    @classmethod
    def _split_key_list(cls, value: object) -> object:
        # The environment carries one string; a settings file may give a YAML list.
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


class DatabaseSettings(_Frozen):
    """The proxy's one database (``proxy/db``): ledger, stage state and audit, shadow
    results and recorded traffic. ``ledger.dsn`` (``PROXY_LEDGER_DSN``) is an alias
    of ``dsn``, kept for configurations written before the database held more than
    the ledger."""

    # None = SQLite under data_dir (one host, ``--workers N`` share the file). A
    # PostgreSQL DSN when several replicas must share one state. Out of repr: a DSN
    # may carry a password.
    dsn: str | None = Field(default=None, repr=False)
    # serve applies pending migrations at start: the embedded default and a single
    # replica need no separate step. A fleet sets it false and runs
    # ``pdt-proxy migrate`` once (a Kubernetes Job or init container), so that
    # replicas rolling out never race a schema change or need DDL rights.
    auto_migrate: bool = True
    # PostgreSQL pool, per process (``proxy.db.pool``). Two connections stay open:
    # the ledger's group commit holds one per batch and the stage poller (every
    # second) another, so neither pays a connect on its path.
    pool_min_size: int = Field(default=2, ge=1, le=100)
    # What may use a connection at once in one process: the ledger's commit, the
    # stage poller, a shadow batch, a recorder batch, a readiness probe and a few
    # admin reads. 10 covers them with room; PostgreSQL's default max_connections
    # (100) then holds replicas x workers x 10 = 3 x 2 x 10 with margin.
    pool_max_size: int = Field(default=10, ge=1, le=1000)
    # Waiting longer than this for a free connection means the database (or the
    # pool) is saturated: the caller fails (a ledger batch: the legacy 503) rather
    # than queue past the legacy client's patience.
    pool_timeout_s: float = Field(default=5.0, gt=0)
    # Connecting takes milliseconds on a LAN; past this the server is down.
    connect_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _pool_bounds(self) -> DatabaseSettings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"pool_min_size ({self.pool_min_size}) is above pool_max_size ({self.pool_max_size})"
            )
        return self


class LedgerSettings(_Frozen):
    """The usage ledger (``proxy/ledger``): one durable record per legacy transaction."""

    # Off only for benchmarks comparing the cost of metering; a proxy that does not
    # meter cannot bill, so production keeps the default.
    enabled: bool = True
    # Alias of ``database.dsn`` (the ledger was the database's first tenant); the
    # settings resolve both to the same value. Kept out of repr: a DSN may carry a password.
    dsn: str | None = Field(default=None, repr=False)
    # Classic group commit: whatever queued while the previous commit ran goes in the
    # next one. 0 ms of lingering adds no latency when idle; under load batches grow
    # by themselves. The cap bounds one transaction's size (and its lock time on a
    # SQLite file shared by several workers).
    max_batch: int = Field(default=512, ge=1, le=100_000)
    max_wait_ms: float = Field(default=0.0, ge=0, le=1000)
    # A commit that takes longer than this fails its batch (legacy 503s) rather than
    # holding every request behind a stuck database past the legacy client's patience.
    commit_timeout_s: float = Field(default=5.0, gt=0)
    # NORMAL in WAL mode survives a process kill (see proxy/ledger/sqlite.py); FULL
    # also survives power loss at the price of one fsync per (group) commit.
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    # Several workers (``serve --workers N``) share the SQLite file; a writer waits
    # this long for another's commit before the batch fails.
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # None = mappings_dir/billing/pricing.yaml (prices are data, not code).
    pricing_file: Path | None = None


class RedisSettings(_Frozen):
    """Shared counters (``proxy/limits``): tenant rate limits and login throttles.

    Unset = every counter lives in the process, as on a laptop; with several
    workers or replicas each then holds its own share of a tenant's limit.
    """

    # ``redis://[:password@]host:6379/0``; kept out of repr: it may carry a password.
    url: str | None = Field(default=None, repr=False)
    # Every key the proxy writes starts with this: one Redis may serve several proxies.
    key_prefix: str = Field(default="pdt-proxy:", max_length=64)
    # One counter update is a single script on a nearby server (well under 1 ms); past
    # this the request is not held any longer and the per-replica limit decides.
    timeout_ms: float = Field(default=50.0, gt=0, le=5000)
    # While Redis is unreachable, one request per interval tries it again; the rest
    # use the per-replica limit without waiting for a timeout each.
    retry_interval_s: float = Field(default=1.0, gt=0)
    # While Redis is down, at most one log line per interval says how many decisions
    # were taken per replica (the metric counts every one).
    log_interval_s: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value


class LoginThrottleSettings(_Frozen):
    """Failed logins one key (a username, a client address) may make: a token bucket."""

    # Refill rate of the bucket, in failed logins per minute.
    failures_per_minute: float = Field(gt=0)
    # Failures allowed in a row before the throttle answers the family's 429.
    burst: int = Field(ge=1)


class LoginSettings(_Frozen):
    """Legacy logins (``proxy/logins``): cache of verified secrets and failure throttles."""

    # Clients that log in before every call (the Classic ASP and PHP snippets) would
    # pay an argon2id verification (~30 ms of a core) each time; after one
    # verification the same secret is recognised by a keyed hash for this long.
    # Minutes, not hours: a password removed from the tenant file stops working
    # within this bound even without a reload.
    cache_minutes: float = Field(default=5.0, ge=0, le=60)
    # Users remembered at once (an entry is ~200 bytes); 0 turns the cache off.
    cache_max_users: int = Field(default=10_000, ge=0, le=1_000_000)
    # Per username: a guesser gets 10 tries, then one every 10 s (6 a minute): a
    # password guessed that way takes centuries, and a client with a typo recovers.
    throttle_per_user: LoginThrottleSettings = LoginThrottleSettings(failures_per_minute=6, burst=10)
    # Per client address: several integrations of one bank may share an egress
    # address, so the bucket is larger; it stops one host spraying many usernames.
    throttle_per_address: LoginThrottleSettings = LoginThrottleSettings(failures_per_minute=60, burst=100)
    # Distinct usernames and addresses tracked in process (without Redis); past it
    # the buckets that have refilled go first. Bounds memory under a spray.
    throttle_max_keys: int = Field(default=100_000, ge=100)


class AutopilotSettings(_Frozen):
    """The migration autopilot's loop (``proxy/autopilot``); plans and gates are data
    (the admin API, the tenant file, ``mappings/compare.yaml``)."""

    # Off: no replica evaluates on its own; on-demand evaluations still answer.
    enabled: bool = True
    # Seconds between evaluations of every plan; None = compare.yaml's
    # autopilot.evaluate_every_s (300: gates move over hours, not seconds).
    evaluate_every_s: float | None = Field(default=None, gt=0)


class LoggingSettings(_Frozen):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_output: Annotated[bool, Field(alias="json")] = True


class Settings(_Frozen):
    server: ServerSettings = ServerSettings()
    pdt: PdtSettings = PdtSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    security: SecuritySettings = SecuritySettings()
    logging: LoggingSettings = LoggingSettings()
    database: DatabaseSettings = DatabaseSettings()
    ledger: LedgerSettings = LedgerSettings()
    legacy: LegacySettings = LegacySettings()
    shadow: ShadowSettings = ShadowSettings()
    autopilot: AutopilotSettings = AutopilotSettings()
    resilience: ResilienceSettings = ResilienceSettings()
    # Sampled, masked recording of legacy-answered exchanges for replay (off by default).
    recorder: RecorderSettings = RecorderSettings()
    # Shared counters (rate limits, login throttles); unset = in process.
    redis: RedisSettings = RedisSettings()
    logins: LoginSettings = LoginSettings()
    # State (SQLite database, generated token key) lives here.
    data_dir: Path = Path("var")
    mappings_dir: Path = Field(default_factory=lambda: project_root() / "mappings")
    # None = the demo tenant file, usable only while PDT is the built-in simulator.
    tenants_file: Path | None = None

    @model_validator(mode="after")
    def _one_database(self) -> Settings:
        """``database.dsn`` and its alias ``ledger.dsn`` resolved to one value in both places."""
        primary, alias = self.database.dsn, self.ledger.dsn
        if primary and alias and primary != alias:
            # Two databases named: which one holds the ledger would be a guess.
            raise ValueError(
                "database.dsn (PROXY_DATABASE_DSN) and ledger.dsn (PROXY_LEDGER_DSN, its alias) "
                "name different databases: set only database.dsn"
            )
        dsn = primary or alias
        if dsn != primary or dsn != alias:
            # Frozen models: the resolved copies replace the fields once, here.
            object.__setattr__(self, "database", self.database.model_copy(update={"dsn": dsn}))
            object.__setattr__(self, "ledger", self.ledger.model_copy(update={"dsn": dsn}))
        return self


_ENV_OVERRIDES: Mapping[str, tuple[str, ...]] = {
    "PROXY_TOKEN_KEY": ("security", "token_key"),
    "PROXY_TOKEN_KEYS_PREVIOUS": ("security", "previous_token_keys"),
    "PROXY_CANARY_KEY": ("security", "canary_key"),
    "PROXY_ADMIN_TOKEN": ("security", "admin_token"),
    "PROXY_ADMIN_TOKENS_FILE": ("security", "admin_tokens_file"),
    "PROXY_DATA_DIR": ("data_dir",),
    "PROXY_TENANTS_FILE": ("tenants_file",),
    "PROXY_MAPPINGS_DIR": ("mappings_dir",),
    "PROXY_PDT_PRD_URL": ("pdt", "environments", "prd", "base_url"),
    "PROXY_PDT_HML_URL": ("pdt", "environments", "hml", "base_url"),
    "PROXY_LEGACY_PRD_URL": ("legacy", "environments", "prd", "base_url"),
    "PROXY_LEGACY_HML_URL": ("legacy", "environments", "hml", "base_url"),
    "PROXY_LOG_LEVEL": ("logging", "level"),
    "PROXY_HOST": ("server", "host"),
    "PROXY_PORT": ("server", "port"),
    "PROXY_WORKERS": ("server", "workers"),
    "PROXY_ADMIN_PORT": ("server", "admin_port"),
    "PROXY_REDIS_URL": ("redis", "url"),
    "PROXY_DATABASE_DSN": ("database", "dsn"),
    "PROXY_DATABASE_AUTO_MIGRATE": ("database", "auto_migrate"),
    # Alias of PROXY_DATABASE_DSN (Settings._one_database).
    "PROXY_LEDGER_DSN": ("ledger", "dsn"),
    "PROXY_AUTOPILOT_ENABLED": ("autopilot", "enabled"),
    "PROXY_AUTOPILOT_EVERY_S": ("autopilot", "evaluate_every_s"),
}


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    node = tree
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def _rebase_paths(raw: dict[str, Any], base: Path) -> None:
    """Relative paths in a settings file are relative to that file, not to the cwd."""
    for node, key in [
        (raw, "data_dir"),
        (raw, "mappings_dir"),
        (raw, "tenants_file"),
        (raw.get("ledger"), "pricing_file"),
        (raw.get("security"), "admin_tokens_file"),
        *((tls, key) for tls in _tls_nodes(raw) for key in ("ca_bundle", "client_cert", "client_key")),
    ]:
        if isinstance(node, dict) and isinstance(node.get(key), str) and not Path(node[key]).is_absolute():
            node[key] = str(base / node[key])


def _tls_nodes(raw: dict[str, Any]) -> list[Any]:
    """Every upstream environment's ``tls`` block in a raw settings tree."""
    environments: list[Any] = []
    for section in ("pdt", "legacy"):
        node = raw.get(section)
        if isinstance(node, dict) and isinstance(node.get("environments"), dict):
            environments += node["environments"].values()
    legacy = raw.get("legacy")
    if isinstance(legacy, dict) and isinstance(legacy.get("products"), dict):
        for per_product in legacy["products"].values():
            if isinstance(per_product, dict):
                environments += per_product.values()
    return [env.get("tls") for env in environments if isinstance(env, dict)]


def _problem(location: tuple[int | str, ...], message: str) -> str:
    # A rule over several sections (Settings._one_database) has no single location.
    where = ".".join(str(part) for part in location)
    return f"{where}: {message}" if where else message.removeprefix("Value error, ")


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, an optional YAML file and the environment."""
    env = os.environ if environ is None else environ
    if path is None and env.get("PROXY_CONFIG"):
        path = Path(env["PROXY_CONFIG"])
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        raw = loaded or {}
        _rebase_paths(raw, path.parent)
    if "environments" in raw.get("pdt", {}):
        # A partial environments block keeps the other environment's default.
        defaults = {"prd": {"base_url": SIMULATOR}, "hml": {"base_url": SIMULATOR}}
        raw["pdt"]["environments"] = {**defaults, **raw["pdt"]["environments"]}
    for variable, target in _ENV_OVERRIDES.items():
        if env.get(variable):
            _set_path(raw, target, env[variable])
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        where = str(path) if path else "environment"
        problems = "; ".join(_problem(err["loc"], err["msg"]) for err in exc.errors())
        raise ConfigError(f"{where}: invalid configuration: {problems}") from None
