"""proxy.observability.tracing: when the environment turns tracing on, and the span helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from proxy.observability import tracing
from tests.tracing_support import spans

__all__ = ["spans"]


@pytest.fixture
def fresh() -> Iterator[None]:
    tracing.uninstall()
    yield
    provider = tracing.STATE.provider
    tracing.uninstall()
    if provider is not None:
        provider.shutdown()


@pytest.mark.parametrize(
    ("environ", "exporters"),
    [
        ({}, ()),
        ({"OTEL_SERVICE_NAME": "proxy"}, ()),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),
        ({"OTEL_TRACES_EXPORTER": "OTLP, console"}, ("otlp", "console")),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ()),
        ({"OTEL_TRACES_EXPORTER": "otlp,none"}, ()),
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, ()),
        ({"OTEL_TRACES_EXPORTER": "jaeger,console"}, ("console",)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ("otlp",)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, ()),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, ()),
        ({"OTEL_SDK_DISABLED": " TRUE ", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ()),
        ({"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, ("otlp",)),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    environ: dict[str, str], exporters: tuple[str, ...]
) -> None:
    choice = tracing.choose_exporters(environ)
    assert choice.exporters == exporters
    assert choice.enabled is bool(exporters)
    assert choice.reason


def test_an_unsupported_exporter_is_named_in_the_reason() -> None:
    assert "jaeger" in tracing.choose_exporters({"OTEL_TRACES_EXPORTER": "jaeger,otlp"}).reason


def test_configured_from_the_environment_once_per_process(fresh: None) -> None:
    first = tracing.configure_from_environment({"OTEL_TRACES_EXPORTER": "console"})
    assert first is not None
    assert first.enabled
    assert tracing.STATE.tracer is not None
    provider = tracing.STATE.provider
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "pdt-proxy"
    # A second app in the same process keeps the first configuration.
    assert tracing.configure_from_environment({"OTEL_SDK_DISABLED": "true"}) is None
    assert tracing.STATE.provider is provider


def test_off_by_default_and_the_service_name_is_honoured(fresh: None) -> None:
    assert tracing.configure_from_environment({}) is not None
    assert tracing.STATE.tracer is None
    tracing.uninstall()
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SERVICE_NAME": "proxy-eu"}
    assert tracing.configure_from_environment(environ) is not None
    assert tracing.STATE.provider is not None
    assert tracing.STATE.provider.resource.attributes["service.name"] == "proxy-eu"


def test_an_installed_provider_wins_over_the_environment(fresh: None) -> None:
    provider = TracerProvider()
    tracing.install(provider)
    assert tracing.configure_from_environment({"OTEL_SDK_DISABLED": "true"}) is None
    assert tracing.STATE.provider is provider


@pytest.mark.parametrize(
    ("outcome", "status_code", "error"),
    [
        ("200", 200, False),
        ("404", 404, False),
        ("429", 429, True),
        ("503", 503, True),
        ("timeout", None, True),
        ("connect_error", None, True),
        ("circuit_open", None, True),
        ("cancelled", None, True),
    ],
)
def test_an_attempt_span_carries_its_outcome(
    spans: InMemorySpanExporter, outcome: str, status_code: int | None, error: bool
) -> None:
    tracer = tracing.STATE.tracer
    assert tracer is not None
    span = tracing.start_attempt(tracer, upstream="pdt", host="pdt.example:8443", call="login", attempt=2)
    tracing.end_attempt(span, outcome)
    (finished,) = spans.get_finished_spans()
    attributes = dict(finished.attributes or {})
    assert finished.name == "pdt login"
    assert attributes["pdt_proxy.attempt"] == 2
    assert attributes["pdt_proxy.outcome"] == outcome
    assert attributes["server.address"] == "pdt.example:8443"
    assert attributes.get("http.response.status_code") == status_code
    assert (finished.status.status_code is StatusCode.ERROR) is error


def test_annotating_without_a_request_span_does_nothing(spans: InMemorySpanExporter) -> None:
    summary = tracing.RequestSummary("ffr", "op", "/x", "t", "pdt", "pdt", 200, "rid", None)
    tracing.annotate_request(summary)
    assert spans.get_finished_spans() == ()


def test_request_attributes_are_sanitized_labels(spans: InMemorySpanExporter) -> None:
    tracer = tracing.STATE.tracer
    assert tracer is not None
    with tracer.start_as_current_span("legacy request") as span:
        token = tracing.bind_request_span(span)
        try:
            # A tenant id shaped like a CPF (a mistake in a tenant file) is masked.
            summary = tracing.RequestSummary(
                "ffr", "analysis", "/ffr/v1/x", "12345678909", "canary:10", "legacy", 502, "rid-1", 12.34567
            )
            tracing.annotate_request(summary)
        finally:
            tracing.reset_request_span(token)
    (finished,) = spans.get_finished_spans()
    attributes = dict(finished.attributes or {})
    assert finished.name == "ffr analysis"
    assert "12345678909" not in str(attributes)
    assert attributes["pdt_proxy.stage"] == "canary:10"
    assert attributes["pdt_proxy.upstream_ms"] == 12.346
    assert finished.status.status_code is StatusCode.ERROR
