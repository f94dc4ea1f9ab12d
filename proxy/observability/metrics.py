"""Prometheus metrics of one app instance, behind typed methods.

The rest of the proxy calls ``Metrics.observe_request(...)``, ``count_unmapped(...)``
and so on, and never touches a prometheus object. Each ``Metrics`` owns its own
``CollectorRegistry`` (not the process-global one), so two apps in one process (the
tests build many) never collide on a metric name.

Label values are bounded, because some come from outside (PDT codes, tenant names)
and every distinct value is a new time series held in memory forever:

* each value is masked (``privacy.mask_text``: a label must never carry a CPF),
  characters outside ``[A-Za-z0-9_.:-]`` become ``_``, and it is cut to
  ``LABEL_MAX_CHARS``; an empty value becomes ``none``;
* each metric holds at most ``max_series`` label combinations; past that, new
  combinations are counted under ``_other`` in every label, and
  ``pdt_proxy_metric_series_overflow_total{metric}`` says which metric overflowed.

Under ``serve --workers N`` every worker writes to one shared directory and a scrape
renders all of them (``proxy.observability.multiprocess``); each gauge then says how
its workers' values combine (``multiprocess_mode``). A single process renders its own
registry, as before.

``labels(...)`` costs several microseconds (validation, locking, a dict keyed by
strings), so children are cached per raw label tuple: a hot-path observation is one
dict lookup plus the increment. The two calls made on every request
(``observe_request``, ``observe_upstream``) go one step further: one lookup on their
whole label tuple yields the bound methods of every child they feed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from proxy import privacy
from proxy.observability import multiprocess

__all__ = ["DURATION_BUCKETS_S", "LABEL_MAX_CHARS", "OTHER", "Metrics", "sanitize_label"]

LABEL_MAX_CHARS: Final = 64
OTHER: Final = "_other"
EMPTY: Final = "none"
# 1 ms (a simulator answer, the proxy alone) to 10 s (past the 8 s request deadline),
# roughly 1-2.5-5 per decade: enough resolution for p50/p99 without series bloat.
DURATION_BUCKETS_S: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_DEFAULT_MAX_SERIES: Final = 2000
# Records per ledger commit: 1 on an idle proxy, up to the writer's max_batch (512 by
# default) under load; powers of two resolve both ends.
LEDGER_BATCH_BUCKETS: Final = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

# (tenant, product, stage label) for every tenant's product now: the stage gauge's source.
StageSource = Callable[[], Iterable[tuple[str, str, str]]]

# observe_request's and observe_upstream's label tuples and the children methods they feed.
_RequestKey = tuple[str, str, str, str, str, int]
_RequestBound = tuple[Callable[[float], None], Callable[[float], None], Callable[[float], None]]
_UpstreamKey = tuple[str, str, str]
_UpstreamBound = tuple[Callable[[float], None], Callable[[float], None]]

_BREAKER_LEVELS: Final = {"closed": 0, "half_open": 1, "open": 2}

_LABEL_FORBIDDEN = re.compile(r"[^A-Za-z0-9_.:-]")

_M = TypeVar("_M", Counter, Gauge, Histogram)


def sanitize_label(value: object) -> str:
    """A label value that cannot carry personal data or break the exposition format."""
    text = _LABEL_FORBIDDEN.sub("_", privacy.mask_text(str(value)))[:LABEL_MAX_CHARS]
    return text or EMPTY


class _Family(Generic[_M]):
    """One labelled metric with its cache of children and its series limit."""

    __slots__ = ("_children", "_max_series", "_metric", "_name", "_other", "_overflow")

    def __init__(self, metric: _M, name: str, max_series: int, overflow: Counter) -> None:
        self._metric: _M = metric
        self._name = name
        self._max_series = max_series
        self._overflow = overflow
        self._children: dict[tuple[object, ...], _M] = {}
        self._other: _M | None = None

    def child(self, *values: object) -> _M:
        found = self._children.get(values)
        return found if found is not None else self._add(values)

    def _add(self, values: tuple[object, ...]) -> _M:
        # A race between two threads ends in the same child twice: labels() is idempotent.
        if len(self._children) >= self._max_series:
            # Not cached: the cache must stay as bounded as the series.
            self._overflow.labels(self._name).inc()
            if self._other is None:
                self._other = self._metric.labels(*(OTHER for _ in values))
            return self._other
        child = self._metric.labels(*(sanitize_label(value) for value in values))
        self._children[values] = child
        return child

    def is_full(self) -> bool:
        """No room for another series: new label tuples now fold into ``_other``."""
        return len(self._children) >= self._max_series


_Key = TypeVar("_Key", bound=tuple[object, ...])
_Bound = TypeVar("_Bound", bound=tuple[Callable[[float], None], ...])


class _Fanout(Generic[_Key, _Bound]):
    """The children one call feeds, as bound methods, cached per the call's label tuple.

    ``resolve`` builds them from the families (their own caches and series limits
    decide which child each gets). A tuple is remembered only while every family it
    feeds still has room, so this cache is as bounded as they are and an ``_other``
    child is looked up again each time, counting each overflow as before.
    """

    __slots__ = ("_bound", "_families", "_resolve")

    def __init__(self, families: tuple[_Family[Any], ...], resolve: Callable[[_Key], _Bound]) -> None:
        self._families = families
        self._resolve = resolve
        self._bound: dict[_Key, _Bound] = {}

    def get(self, key: _Key) -> _Bound:
        found = self._bound.get(key)
        if found is not None:
            return found
        bound = self._resolve(key)
        if not any(family.is_full() for family in self._families):
            self._bound[key] = bound
        return bound


class Metrics:
    """All of the proxy's metrics, created once per app."""

    def __init__(self, *, max_series: int = _DEFAULT_MAX_SERIES) -> None:
        self.registry = CollectorRegistry()
        # Read once: prometheus-client chose its value class from the same variable
        # when it was imported, and neither changes while the worker runs.
        self._multiprocess_dir = multiprocess.directory_from_environment()
        registry = self.registry
        self._overflow = Counter(
            "pdt_proxy_metric_series_overflow_total",
            "Observations folded into _other because a metric reached its series limit.",
            ["metric"],
            registry=registry,
        )

        def family(metric: _M, name: str) -> _Family[_M]:
            return _Family(metric, name, max_series, self._overflow)

        self._requests = family(
            Counter(
                "pdt_proxy_requests_total",
                "Legacy requests answered, by who answered and with which status.",
                ["tenant", "product", "operation", "stage", "side", "status"],
                registry=registry,
            ),
            "requests",
        )
        self._request_seconds = family(
            Histogram(
                "pdt_proxy_request_duration_seconds",
                "Time to answer a legacy request, from the first byte read to the answer.",
                ["product", "operation", "side"],
                buckets=DURATION_BUCKETS_S,
                registry=registry,
            ),
            "request_duration",
        )
        # Per tenant and stage, which the histogram above leaves out (it predates stages
        # as labels); what the dashboard's per-tenant latency and the canary's compare use.
        self._tenant_seconds = family(
            Histogram(
                "pdt_proxy_tenant_request_duration_seconds",
                "Time to answer a legacy request, by tenant, product and stage.",
                ["tenant", "product", "stage"],
                buckets=DURATION_BUCKETS_S,
                registry=registry,
            ),
            "tenant_request_duration",
        )
        self._upstream_calls = family(
            Counter(
                "pdt_proxy_upstream_calls_total",
                "Calls to PDT or a legacy backend, by outcome (ok, timeout, error, ...).",
                ["upstream", "call", "outcome"],
                registry=registry,
            ),
            "upstream_calls",
        )
        self._upstream_seconds = family(
            Histogram(
                "pdt_proxy_upstream_duration_seconds",
                "Duration of one upstream call.",
                ["upstream", "call"],
                buckets=DURATION_BUCKETS_S,
                registry=registry,
            ),
            "upstream_duration",
        )
        self._unmapped = family(
            Counter(
                "pdt_proxy_unmapped_codes_total",
                "Codes a DE-PARA table had no entry for, handled by the table's policy.",
                ["tenant", "operation", "table", "code"],
                registry=registry,
            ),
            "unmapped_codes",
        )
        self._fallbacks = family(
            Counter(
                "pdt_proxy_fallbacks_total",
                "Requests answered by the legacy backend because PDT failed (pdt-fallback stage).",
                ["tenant", "product", "cause"],
                registry=registry,
            ),
            "fallbacks",
        )
        self._autopilot = family(
            Counter(
                "pdt_proxy_autopilot_decisions_total",
                "Migration autopilot decisions (a rollback is an alert: severity 'severe' went to shadow).",
                ["tenant", "decision", "severity"],
                registry=registry,
            ),
            "autopilot_decisions",
        )
        self._shadow = family(
            Counter(
                "pdt_proxy_shadow_comparisons_total",
                "Shadow comparisons of the legacy and the PDT answer, by outcome.",
                ["tenant", "product", "outcome"],
                registry=registry,
            ),
            "shadow_comparisons",
        )
        self._shadow_dropped = family(
            Counter(
                "pdt_proxy_shadow_dropped_total",
                "Shadow PDT calls not made or not compared (sampling, saturation, timeout).",
                ["tenant", "product", "reason"],
                registry=registry,
            ),
            "shadow_dropped",
        )
        self._legacy_calls = family(
            Counter(
                "pdt_proxy_legacy_backend_calls_total",
                "Calls to the legacy backend: zero for a tenant means it can be switched off.",
                ["tenant", "product"],
                registry=registry,
            ),
            "legacy_backend_calls",
        )
        self._legacy_last_call = family(
            Gauge(
                "pdt_proxy_legacy_backend_last_call_timestamp_seconds",
                "Unix time of the last legacy backend call.",
                ["tenant", "product"],
                registry=registry,
                # The latest call any worker made, including one that has since exited.
                multiprocess_mode="max",
            ),
            "legacy_backend_last_call",
        )
        self._retries = family(
            Counter(
                "pdt_proxy_upstream_retries_total",
                "Upstream calls sent again (safe calls only), by what the failed attempt met.",
                ["upstream", "call", "reason"],
                registry=registry,
            ),
            "upstream_retries",
        )
        self._breaker_state = family(
            Gauge(
                "pdt_proxy_circuit_breaker_state",
                "Circuit breaker of each upstream host: 0 closed, 1 half-open, 2 open.",
                ["host"],
                registry=registry,
                # Each worker has its own breaker: show the worst among running workers.
                multiprocess_mode="livemax",
            ),
            "circuit_breaker_state",
        )
        self._breaker_moves = family(
            Counter(
                "pdt_proxy_circuit_breaker_transitions_total",
                "Circuit breaker state changes, by host and the state entered.",
                ["host", "state"],
                registry=registry,
            ),
            "circuit_breaker_transitions",
        )
        self._shed = family(
            Counter(
                "pdt_proxy_requests_shed_total",
                "Legacy requests refused before any work: tenant over its rate, or worker saturated.",
                ["tenant", "product", "reason"],
                registry=registry,
            ),
            "requests_shed",
        )
        self._ledger_commits = family(
            Counter(
                "pdt_proxy_ledger_commits_total",
                "Ledger transactions committed (each holds one or more usage records), by store backend.",
                ["backend"],
                registry=registry,
            ),
            "ledger_commits",
        )
        self._ledger_failures = family(
            Counter(
                "pdt_proxy_ledger_commit_failures_total",
                "Ledger commits that failed or timed out: their requests were answered 503.",
                ["backend"],
                registry=registry,
            ),
            "ledger_commit_failures",
        )
        self._ledger_batch = family(
            Histogram(
                "pdt_proxy_ledger_commit_records",
                "Usage records per ledger commit attempt (group commit batch size).",
                ["backend"],
                buckets=LEDGER_BATCH_BUCKETS,
                registry=registry,
            ),
            "ledger_commit_records",
        )
        self._in_flight = Gauge(
            "pdt_proxy_requests_in_flight",
            "Legacy requests being answered now.",
            registry=registry,
            # The whole process's load: the running workers' counts added up.
            multiprocess_mode="livesum",
        )
        self._logins = family(
            Counter(
                "pdt_proxy_logins_total",
                "Legacy logins by outcome: verified (argon2id), cached (verified lately), "
                "bad_credentials, throttled.",
                ["product", "outcome"],
                registry=registry,
            ),
            "logins",
        )
        self._limit_fallbacks = family(
            Counter(
                "pdt_proxy_limit_fallbacks_total",
                "Limit decisions taken by this replica's own buckets because Redis did not answer.",
                ["limit"],
                registry=registry,
            ),
            "limit_fallbacks",
        )
        self._per_request: _Fanout[_RequestKey, _RequestBound] = _Fanout(
            (self._requests, self._request_seconds, self._tenant_seconds), self._request_children
        )
        self._per_upstream_call: _Fanout[_UpstreamKey, _UpstreamBound] = _Fanout(
            (self._upstream_calls, self._upstream_seconds), self._upstream_children
        )
        self._init_config_metrics()

    def _request_children(self, key: _RequestKey) -> _RequestBound:
        tenant, product, operation, stage, side, status = key
        return (
            self._requests.child(tenant, product, operation, stage, side, status).inc,
            self._request_seconds.child(product, operation, side).observe,
            self._tenant_seconds.child(tenant, product, stage).observe,
        )

    def _upstream_children(self, key: _UpstreamKey) -> _UpstreamBound:
        upstream, call, outcome = key
        return (
            self._upstream_calls.child(upstream, call, outcome).inc,
            self._upstream_seconds.child(upstream, call).observe,
        )

    def observe_request(
        self,
        *,
        tenant: str,
        product: str,
        operation: str,
        stage: str,
        side: str,
        status: int,
        duration_s: float,
    ) -> None:
        """One answered legacy request; ``side`` is who answered (``legacy`` or ``pdt``)."""
        count, by_operation, by_tenant = self._per_request.get(
            (tenant, product, operation, stage, side, status)
        )
        count(1)
        by_operation(duration_s)
        by_tenant(duration_s)

    def observe_upstream(self, *, upstream: str, call: str, outcome: str, duration_s: float) -> None:
        """One call to ``upstream`` (``pdt``, ``legacy``); ``call`` names the endpoint, not the URL."""
        count, duration = self._per_upstream_call.get((upstream, call, outcome))
        count(1)
        duration(duration_s)

    def count_unmapped(self, *, tenant: str, operation: str, table: str, code: str) -> None:
        self._unmapped.child(tenant, operation, table, code).inc()

    def count_fallback(self, *, tenant: str, product: str, cause: str) -> None:
        self._fallbacks.child(tenant, product, cause).inc()

    def count_autopilot(self, *, tenant: str, decision: str, severity: str) -> None:
        self._autopilot.child(tenant, decision, severity).inc()

    def count_shadow(self, *, tenant: str, product: str, outcome: str) -> None:
        self._shadow.child(tenant, product, outcome).inc()

    def count_shadow_dropped(self, *, tenant: str, product: str, reason: str) -> None:
        self._shadow_dropped.child(tenant, product, reason).inc()

    def observe_legacy_call(self, *, tenant: str, product: str, at: float | None = None) -> None:
        """A legacy backend call; ``at`` (Unix seconds) defaults to now."""
        self._legacy_calls.child(tenant, product).inc()
        self._legacy_last_call.child(tenant, product).set(time.time() if at is None else at)

    def count_retry(self, *, upstream: str, call: str, reason: str) -> None:
        self._retries.child(upstream, call, reason).inc()

    def breaker_moved(self, *, host: str, state: str) -> None:
        self._breaker_state.child(host).set(_BREAKER_LEVELS.get(state, 0))
        self._breaker_moves.child(host, state).inc()

    def count_shed(self, *, tenant: str, product: str, reason: str) -> None:
        self._shed.child(tenant, product, reason).inc()

    def count_login(self, *, product: str, outcome: str) -> None:
        self._logins.child(product, outcome).inc()

    def count_limit_fallback(self, limit: str) -> None:
        """``limit`` is the bucket kind (``tenant``, ``login-user``, ``login-addr``), never its key."""
        self._limit_fallbacks.child(limit).inc()

    def observe_ledger_commit(self, *, backend: str, records: int, ok: bool) -> None:
        """One ledger commit attempt of ``records`` records on ``backend`` (sqlite, postgres)."""
        self._ledger_batch.child(backend).observe(records)
        if ok:
            self._ledger_commits.child(backend).inc()
        else:
            self._ledger_failures.child(backend).inc()

    def track_stages(self, source: StageSource) -> None:
        """Export ``pdt_proxy_tenant_stage`` from ``source``, read at each scrape.

        Read at scrape time rather than set on each change: stages change from the
        admin API, the shared database's poll and the tenant file, and a collector sees
        them all with no hook in any of them and no cost on the request path.
        """
        self.registry.register(_StageCollector(source))

    # --- live configuration (proxy/live) -------------------------------------------
    # Kept in one block: which set each replica runs, and how its reloads went.

    def _init_config_metrics(self) -> None:
        self._config_info = Gauge(
            "pdt_proxy_config_info",
            "The configuration set this process answers with: 1 for its version and part hashes.",
            ["version", "mappings", "tenants", "pricing", "compare"],
            registry=self.registry,
            # One series per worker (pid): workers that disagree must both show.
            multiprocess_mode="liveall",
        )
        self._config_labels: tuple[str, ...] | None = None
        self._reloads = Counter(
            "pdt_proxy_config_reloads_total",
            "Configuration reloads by outcome: ok (the set in force was checked whole), "
            "refused (the running set stayed).",
            ["outcome"],
            registry=self.registry,
        )

    def config_loaded(self, version: str, hashes: dict[str, str]) -> None:
        """The set in force is now ``version`` (short hashes: bounded, one series at a time)."""
        labels = (
            version,
            *(hashes.get(part, "")[:12] for part in ("mappings", "tenants", "pricing", "compare")),
        )
        if labels == self._config_labels:
            return
        if self._config_labels is not None:
            self._config_info.remove(*self._config_labels)
        self._config_info.labels(*labels).set(1)
        self._config_labels = labels

    def count_reload(self, outcome: str) -> None:
        """``outcome`` is ``ok`` or ``refused``."""
        self._reloads.labels(outcome).inc()

    # --- end of live configuration --------------------------------------------------

    def request_started(self) -> None:
        self._in_flight.inc()

    def request_finished(self) -> None:
        self._in_flight.dec()

    def render(self) -> tuple[bytes, str]:
        """Body and content type for ``GET /metrics``.

        The 0.0.4 text format, which every Prometheus version scrapes; it is also
        what prometheus_client serves when the scraper states no preference.
        Under several workers, the body covers every worker, not just this one.
        """
        if self._multiprocess_dir is not None:
            return multiprocess.collect(self._multiprocess_dir), CONTENT_TYPE_PLAIN_0_0_4
        return generate_latest(self.registry), CONTENT_TYPE_PLAIN_0_0_4


class _StageCollector(Collector):
    """``pdt_proxy_tenant_stage{tenant, product, stage} 1`` for each tenant's product.

    With the legacy backend's call counter it makes "legacy traffic from a tenant
    already in pdt" expressible as an alert (``deploy/observability/alerts.yaml``).
    Bounded by the tenant file (tenants x products), one series each.
    """

    def __init__(self, source: StageSource) -> None:
        self._source = source

    def describe(self) -> Iterable[Metric]:
        # Described without calling the source: registering must not read state.
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for tenant, product, stage in self._source():
            family.add_metric([sanitize_label(tenant), sanitize_label(product), sanitize_label(stage)], 1)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "pdt_proxy_tenant_stage",
            "1 for the migration stage each tenant's product is in, as this process sees it.",
            labels=["tenant", "product", "stage"],
        )
