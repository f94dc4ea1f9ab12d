"""proxy.observability.metrics: each method feeds its series; label values stay bounded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from proxy.observability.metrics import LABEL_MAX_CHARS, OTHER, Metrics, sanitize_label


def _value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


Call = Callable[[Metrics], None]

# (call, sample name, labels, value after the call made twice)
SERIES: list[tuple[str, Call, str, dict[str, str], float]] = [
    (
        "request count",
        lambda m: m.observe_request(
            tenant="acme", product="datatrust", operation="send", stage="shadow", side="legacy", status=200,
            duration_s=0.004,
        ),
        "pdt_proxy_requests_total",
        {"tenant": "acme", "product": "datatrust", "operation": "send", "stage": "shadow", "side": "legacy",
         "status": "200"},
        2,
    ),
    (
        "request duration",
        lambda m: m.observe_request(
            tenant="acme", product="ffr", operation="score", stage="pdt", side="pdt", status=503,
            duration_s=0.004,
        ),
        "pdt_proxy_request_duration_seconds_bucket",
        {"product": "ffr", "operation": "score", "side": "pdt", "le": "0.005"},
        2,
    ),
    (
        "upstream count",
        lambda m: m.observe_upstream(upstream="pdt", call="scores", outcome="timeout", duration_s=1.5),
        "pdt_proxy_upstream_calls_total",
        {"upstream": "pdt", "call": "scores", "outcome": "timeout"},
        2,
    ),
    (
        "upstream duration",
        lambda m: m.observe_upstream(upstream="pdt", call="scores", outcome="ok", duration_s=1.5),
        "pdt_proxy_upstream_duration_seconds_sum",
        {"upstream": "pdt", "call": "scores"},
        3.0,
    ),
    (
        "unmapped code",
        lambda m: m.count_unmapped(tenant="acme", operation="send", table="insights", code="GER2100"),
        "pdt_proxy_unmapped_codes_total",
        {"tenant": "acme", "operation": "send", "table": "insights", "code": "GER2100"},
        2,
    ),
    (
        "fallback",
        lambda m: m.count_fallback(tenant="acme", product="datatrust", cause="upstream_timeout"),
        "pdt_proxy_fallbacks_total",
        {"tenant": "acme", "product": "datatrust", "cause": "upstream_timeout"},
        2,
    ),
    (
        "shadow comparison",
        lambda m: m.count_shadow(tenant="acme", product="datatrust", outcome="match"),
        "pdt_proxy_shadow_comparisons_total",
        {"tenant": "acme", "product": "datatrust", "outcome": "match"},
        2,
    ),
    (
        "shadow dropped",
        lambda m: m.count_shadow_dropped(tenant="acme", product="datatrust", reason="sampled_out"),
        "pdt_proxy_shadow_dropped_total",
        {"tenant": "acme", "product": "datatrust", "reason": "sampled_out"},
        2,
    ),
    (
        "legacy call count",
        lambda m: m.observe_legacy_call(tenant="acme", product="mobiletrust", at=1_700_000_000.0),
        "pdt_proxy_legacy_backend_calls_total",
        {"tenant": "acme", "product": "mobiletrust"},
        2,
    ),
    (
        "legacy last call",
        lambda m: m.observe_legacy_call(tenant="acme", product="mobiletrust", at=1_700_000_000.0),
        "pdt_proxy_legacy_backend_last_call_timestamp_seconds",
        {"tenant": "acme", "product": "mobiletrust"},
        1_700_000_000.0,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "name", "labels", "expected"), [s[1:] for s in SERIES], ids=[s[0] for s in SERIES]
)
def test_each_method_feeds_its_series(call: Call, name: str, labels: dict[str, str], expected: float) -> None:
    metrics = Metrics()
    assert _value(metrics, name, **labels) is None
    call(metrics)
    call(metrics)
    assert _value(metrics, name, **labels) == expected


def test_request_duration_lands_in_the_right_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.0004, 0.003, 0.2, 12.0):
        metrics.observe_request(
            tenant="t", product="p", operation="o", stage="pdt", side="pdt", status=200, duration_s=seconds
        )
    labels = {"product": "p", "operation": "o", "side": "pdt"}
    buckets = {le: _value(metrics, "pdt_proxy_request_duration_seconds_bucket", **labels, le=le)
               for le in ("0.001", "0.005", "0.25", "10.0", "+Inf")}  # fmt: skip
    assert buckets == {"0.001": 1, "0.005": 2, "0.25": 3, "10.0": 3, "+Inf": 4}
    assert _value(metrics, "pdt_proxy_request_duration_seconds_count", **labels) == 4


def test_in_flight_gauge_goes_up_and_down() -> None:
    metrics = Metrics()
    metrics.request_started()
    metrics.request_started()
    metrics.request_finished()
    assert _value(metrics, "pdt_proxy_requests_in_flight") == 1


def test_legacy_last_call_defaults_to_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("proxy.observability.metrics.time.time", lambda: 1_234.5)
    metrics = Metrics()
    metrics.observe_legacy_call(tenant="acme", product="ffr")
    assert _value(
        metrics, "pdt_proxy_legacy_backend_last_call_timestamp_seconds", tenant="acme", product="ffr"
    ) == (1_234.5)


def test_instances_do_not_share_a_registry() -> None:
    first, second = Metrics(), Metrics()
    first.count_fallback(tenant="acme", product="ffr", cause="x")
    labels = {"tenant": "acme", "product": "ffr", "cause": "x"}
    assert _value(first, "pdt_proxy_fallbacks_total", **labels) == 1
    assert _value(second, "pdt_proxy_fallbacks_total", **labels) is None


# --- label values ------------------------------------------------------------------------------------

LABELS = [
    ("GER2100", "GER2100"),
    ("pdt-fallback", "pdt-fallback"),
    ("v1.score:ok", "v1.score:ok"),
    (200, "200"),
    ("", "none"),
    ("a b/c", "a_b_c"),
    ('x"}\n', "x___"),
    ("ação", "a__o"),
    ("x" * 100, "x" * LABEL_MAX_CHARS),
    # A code from upstream must not carry personal data into a label.
    ("12345678909", "___.___.___-09"),
    ("maria@example.com", "m____example.com"),
]


@pytest.mark.parametrize(("raw", "label"), LABELS)
def test_sanitize_label(raw: object, label: str) -> None:
    assert sanitize_label(raw) == label


def test_sanitized_values_are_what_gets_exported() -> None:
    metrics = Metrics()
    metrics.count_unmapped(tenant="acme", operation="send", table="insights", code="12345678909 weird code")
    body, _ = metrics.render()
    assert b"12345678909" not in body
    labels = {"tenant": "acme", "operation": "send", "table": "insights", "code": "___.___.___-09_weird_code"}
    assert _value(metrics, "pdt_proxy_unmapped_codes_total", **labels) == 1


def test_series_per_metric_are_capped() -> None:
    metrics = Metrics(max_series=2)
    for code in ("A1", "A2", "A3", "A4", "A1"):
        metrics.count_unmapped(tenant="acme", operation="send", table="insights", code=code)

    def count(
        code: str, tenant: str = "acme", operation: str = "send", table: str = "insights"
    ) -> float | None:
        labels = {"tenant": tenant, "operation": operation, "table": table, "code": code}
        return _value(metrics, "pdt_proxy_unmapped_codes_total", **labels)

    assert (count("A1"), count("A2"), count("A3"), count("A4")) == (2, 1, None, None)
    assert count(OTHER, OTHER, OTHER, OTHER) == 2
    assert _value(metrics, "pdt_proxy_metric_series_overflow_total", metric="unmapped_codes") == 2
    # Other metrics keep their own budget.
    metrics.count_fallback(tenant="acme", product="ffr", cause="x")
    assert _value(metrics, "pdt_proxy_fallbacks_total", tenant="acme", product="ffr", cause="x") == 1


def _request(metrics: Metrics, tenant: str, status: int) -> None:
    metrics.observe_request(
        tenant=tenant,
        product="dt",
        operation="send",
        stage="pdt",
        side="pdt",
        status=status,
        duration_s=0.002,
    )


# (tenant, status) per request: the request counter's labels hold both, the duration
# histograms' fewer, so the families fill at different points.
@pytest.mark.parametrize(
    ("requests", "counted", "other", "overflows"),
    [
        ([("a", 200), ("a", 200), ("a", 200)], {("a", "200"): 3}, 0, 0),
        # The counter's third tuple and its repeat fold into _other, each time counted.
        ([("a", 200), ("a", 500), ("a", 503), ("a", 503)], {("a", "200"): 1, ("a", "500"): 1}, 2, 2),
        # Tenant c fills the per-tenant histogram too; a's cached tuple still lands as before.
        ([("a", 200), ("b", 200), ("c", 200), ("a", 200)], {("a", "200"): 2, ("b", "200"): 1}, 1, 1),
    ],
)
def test_request_series_are_capped_per_metric(
    requests: list[tuple[str, int]], counted: dict[tuple[str, str], float], other: float, overflows: float
) -> None:
    metrics = Metrics(max_series=2)
    for tenant, status in requests:
        _request(metrics, tenant, status)
    labels = {"product": "dt", "operation": "send", "stage": "pdt", "side": "pdt"}
    for (who, code), value in counted.items():
        assert _value(metrics, "pdt_proxy_requests_total", tenant=who, status=code, **labels) == value
    everything_other = dict.fromkeys(("tenant", "product", "operation", "stage", "side", "status"), OTHER)
    assert (_value(metrics, "pdt_proxy_requests_total", **everything_other) or 0) == other
    assert (_value(metrics, "pdt_proxy_metric_series_overflow_total", metric="requests") or 0) == overflows
    # Every request is in the per-operation histogram (one series: the same labels each time).
    total = _value(
        metrics, "pdt_proxy_request_duration_seconds_count", product="dt", operation="send", side="pdt"
    )
    assert total == len(requests)


# --- exposition --------------------------------------------------------------------------------------


def test_render_gives_the_text_format() -> None:
    metrics = Metrics()
    metrics.count_shadow(tenant="acme", product="datatrust", outcome="match")
    body, content_type = metrics.render()
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    assert "# TYPE pdt_proxy_shadow_comparisons_total counter" in text
    assert 'pdt_proxy_shadow_comparisons_total{outcome="match",product="datatrust",tenant="acme"} 1.0' in text
    assert "# TYPE pdt_proxy_request_duration_seconds histogram" in text
    assert "pdt_proxy_requests_in_flight 0.0" in text
