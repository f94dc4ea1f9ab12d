"""Tracing in tests: the SDK's in-memory exporter installed for one test, then removed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from proxy import privacy
from proxy.observability import tracing

__all__ = ["attribute_text", "spans"]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span ended during the test, synchronously (no batching thread)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


def attribute_text(span: ReadableSpan) -> str:
    """The span's name, attribute names and values and events, as one text to scan."""
    parts = [span.name]
    for key, value in (span.attributes or {}).items():
        parts.append(f"{key}={value!s}")
    for event in span.events:
        parts.append(event.name)
        parts.extend(f"{key}={value!s}" for key, value in (event.attributes or {}).items())
    if span.status.description:
        parts.append(span.status.description)
    return " ".join(parts)


def personal_kinds(span: ReadableSpan) -> list[privacy.PersonalDataKind]:
    return privacy.find_personal_data(attribute_text(span))
