"""OpenTelemetry tracing: off unless the standard ``OTEL_*`` variables ask for it.

Two kinds of span, both built here so their names and attributes live in one place:

* one SERVER span per legacy request (``proxy.edge.request_span`` opens it, the access
  observer names and annotates it once the answer is known): product, operation,
  tenant id, stage, the side that answered, status, route template, request id;
* one CLIENT span per upstream attempt (``proxy.upstream.resilience``), a child of the
  request's span: upstream, host, call name, attempt number, outcome.

Nothing personal is ever an attribute: no body, header value, raw path (paths can hold
transaction ids), credential, or client address. Attribute values are the same
bounded, sanitized labels the metrics use.

When tracing is off, which is the default, the module state's ``tracer`` is None: the
request middleware is not even installed, and an upstream attempt pays one attribute
read. Switching on is per process (each uvicorn worker reads the environment when it
builds its app), and the first configuration wins: tests ``install`` an in-memory
provider, and a later app built in the same process keeps it.

When is it on (``choose_exporters``, pure):

* ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set;
* ``OTEL_TRACES_EXPORTER`` names the exporters (``otlp``, ``console``; ``none`` is off);
* otherwise an OTLP endpoint (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
  ``OTEL_EXPORTER_OTLP_ENDPOINT``) means ``otlp``;
* otherwise off. (The OpenTelemetry default would be ``otlp`` to localhost, which
  would make every laptop run send spans into the void.)

The OTLP exporter is HTTP/protobuf; it reads its endpoint, headers, timeout and
certificates from the standard variables itself, and ``TracerProvider`` reads the
sampler (``OTEL_TRACES_SAMPLER``) and ``Resource`` the service name and attributes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Final

from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from proxy.observability.logging import get_logger
from proxy.observability.metrics import sanitize_label

__all__ = [
    "ATTEMPT_ATTRIBUTES",
    "REQUEST_ATTRIBUTES",
    "STATE",
    "RequestSummary",
    "TracingChoice",
    "annotate_request",
    "bind_request_span",
    "choose_exporters",
    "configure_from_environment",
    "end_attempt",
    "install",
    "parent_context",
    "reset_request_span",
    "start_attempt",
    "uninstall",
]

_log = get_logger(__name__)

SERVICE: Final = "pdt-proxy"
INSTRUMENTATION: Final = "pdt_proxy"
KNOWN_EXPORTERS: Final = frozenset({"otlp", "console"})

# Attribute keys: OpenTelemetry's semantic conventions where one fits, else ours.
REQUEST_ATTRIBUTES: Final = (
    "http.request.method",
    "http.route",
    "http.response.status_code",
    "pdt_proxy.product",
    "pdt_proxy.operation",
    "pdt_proxy.tenant",
    "pdt_proxy.stage",
    "pdt_proxy.side",
    "pdt_proxy.request_id",
    "pdt_proxy.upstream_ms",
)
ATTEMPT_ATTRIBUTES: Final = (
    "pdt_proxy.upstream",
    "server.address",
    "pdt_proxy.call",
    "pdt_proxy.attempt",
    "pdt_proxy.outcome",
)


@dataclass(frozen=True, slots=True)
class TracingChoice:
    """What the environment asks for: the exporters to build (empty: tracing off)."""

    exporters: tuple[str, ...]
    reason: str

    @property
    def enabled(self) -> bool:
        return bool(self.exporters)


def choose_exporters(environ: Mapping[str, str]) -> TracingChoice:
    """Read the standard variables (see the module docstring); no I/O, no side effect."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return TracingChoice((), "OTEL_SDK_DISABLED=true")
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named:
        wanted = [item.strip() for item in named.split(",") if item.strip()]
        if "none" in wanted:
            return TracingChoice((), "OTEL_TRACES_EXPORTER=none")
        known = tuple(dict.fromkeys(item for item in wanted if item in KNOWN_EXPORTERS))
        unknown = sorted(set(wanted) - KNOWN_EXPORTERS)
        reason = "OTEL_TRACES_EXPORTER"
        if unknown:
            reason += f" (not supported, ignored: {', '.join(unknown)})"
        return TracingChoice(known, reason)
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        if environ.get(variable, "").strip():
            return TracingChoice(("otlp",), variable)
    return TracingChoice((), "no OTEL_TRACES_EXPORTER or OTLP endpoint set")


class _State:
    """The process's tracing: ``tracer`` is None while tracing is off."""

    __slots__ = ("configured", "provider", "tracer")

    def __init__(self) -> None:
        self.tracer: Tracer | None = None
        self.provider: TracerProvider | None = None
        self.configured = False


STATE: Final = _State()

_REQUEST_SPAN: ContextVar[Span | None] = ContextVar("pdt_proxy_request_span", default=None)
_PROPAGATOR: Final = TraceContextTextMapPropagator()


def install(provider: TracerProvider) -> None:
    """Trace through ``provider`` from now on in this process (tests pass an in-memory one)."""
    STATE.provider = provider
    STATE.tracer = provider.get_tracer(INSTRUMENTATION)
    STATE.configured = True


def uninstall() -> None:
    """Tracing off; the next ``configure_from_environment`` reads the environment again."""
    STATE.tracer = None
    STATE.provider = None
    STATE.configured = False


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    # Imported only when asked for: it pulls in protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _protocol_warning(environ: Mapping[str, str]) -> str | None:
    protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol and protocol.strip().lower() != "http/protobuf":
        return f"OTLP protocol {protocol.strip()!r} is not shipped; spans are sent as http/protobuf"
    return None


def configure_from_environment(environ: Mapping[str, str] | None = None) -> TracingChoice | None:
    """Set tracing up once per process from ``OTEL_*``; None when it already was."""
    if STATE.configured:
        return None
    env = os.environ if environ is None else environ
    choice = choose_exporters(env)
    STATE.configured = True
    if not choice.enabled:
        return choice
    warning = _protocol_warning(env)
    if warning is not None and "otlp" in choice.exporters:
        _log.warning("tracing: " + warning)
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is the default.
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or SERVICE})
    provider = TracerProvider(resource=resource)
    for name in choice.exporters:
        processor: SpanProcessor = BatchSpanProcessor(_exporter(name))
        provider.add_span_processor(processor)
    install(provider)
    return choice


# --- the request span ------------------------------------------------------------------


def parent_context(headers: list[tuple[bytes, bytes]]) -> Context:
    """The caller's trace (W3C ``traceparent``/``tracestate``), if a mesh or gateway sent one."""
    carrier = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in headers
        if name in (b"traceparent", b"tracestate")
    }
    return _PROPAGATOR.extract(carrier)


def bind_request_span(span: Span) -> Token[Span | None]:
    return _REQUEST_SPAN.set(span)


def reset_request_span(token: Token[Span | None]) -> None:
    _REQUEST_SPAN.reset(token)


@dataclass(frozen=True, slots=True)
class RequestSummary:
    """What the request span carries once the answer is known (all non-personal)."""

    product: str
    operation: str
    route: str
    tenant: str
    stage: str
    side: str
    status: int
    request_id: str
    upstream_ms: float | None


def annotate_request(summary: RequestSummary) -> None:
    """Name and annotate the current request's span; nothing when there is none."""
    span = _REQUEST_SPAN.get()
    if span is None:
        return
    span.update_name(f"{sanitize_label(summary.product)} {sanitize_label(summary.operation)}")
    attributes: dict[str, str | int | float] = {
        "http.route": summary.route,
        "http.response.status_code": summary.status,
        "pdt_proxy.product": sanitize_label(summary.product),
        "pdt_proxy.operation": sanitize_label(summary.operation),
        "pdt_proxy.tenant": sanitize_label(summary.tenant),
        "pdt_proxy.stage": sanitize_label(summary.stage),
        "pdt_proxy.side": sanitize_label(summary.side),
        "pdt_proxy.request_id": summary.request_id,
    }
    if summary.upstream_ms is not None:
        attributes["pdt_proxy.upstream_ms"] = round(summary.upstream_ms, 3)
    span.set_attributes(attributes)
    if summary.status >= 500:
        span.set_status(Status(StatusCode.ERROR, f"answered {summary.status}"))


# --- upstream attempts -----------------------------------------------------------------


def start_attempt(tracer: Tracer, *, upstream: str, host: str, call: str, attempt: int) -> Span:
    """A CLIENT span for one attempt, child of the current context (the request's span)."""
    return tracer.start_span(
        f"{upstream} {call}",
        kind=SpanKind.CLIENT,
        attributes={
            "pdt_proxy.upstream": sanitize_label(upstream),
            "server.address": host,
            "pdt_proxy.call": sanitize_label(call),
            "pdt_proxy.attempt": attempt,
        },
    )


def end_attempt(span: Span, outcome: str) -> None:
    """Close an attempt's span with its outcome: an HTTP status, ``timeout``, ``circuit_open``..."""
    span.set_attribute("pdt_proxy.outcome", outcome)
    if outcome.isdigit():
        status = int(outcome)
        span.set_attribute("http.response.status_code", status)
        if status >= 500 or status == 429:
            span.set_status(Status(StatusCode.ERROR, outcome))
    else:
        span.set_status(Status(StatusCode.ERROR, outcome))
    span.end()
