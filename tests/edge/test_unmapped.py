from __future__ import annotations

import io

import orjson
import pytest

from proxy.config import LoggingSettings
from proxy.edge.unmapped import UnmappedReporter
from proxy.mapping.transforms import UnmappedCode
from proxy.observability.logging import configure_logging
from proxy.observability.metrics import Metrics


def _count(metrics: Metrics, code: str) -> float | None:
    return metrics.registry.get_sample_value(
        "pdt_proxy_unmapped_codes_total",
        {"tenant": "acme", "operation": "op", "table": "insights", "code": code},
    )


@pytest.mark.parametrize(("occurrences", "expected_lines"), [(1, 1), (2, 1), (3, 2), (7, 3)])
def test_every_occurrence_counted_first_and_every_nth_logged(occurrences: int, expected_lines: int) -> None:
    stream = io.StringIO()
    configure_logging(LoggingSettings(), stream=stream)
    metrics = Metrics()
    reporter = UnmappedReporter(metrics, log_every=3)
    for _ in range(occurrences):
        reporter.report(tenant="acme", operation="op", codes=[UnmappedCode("insights", "X1")])
    assert _count(metrics, "X1") == occurrences
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines() if "unmapped code" in line]
    assert len(lines) == expected_lines
    assert lines[0]["tenant"] == "acme"
    assert lines[0]["table"] == "insights"
    assert lines[0]["code"] == "X1"
    assert lines[-1]["occurrences"] in (1, 3, 6)


def test_codes_are_tracked_separately() -> None:
    metrics = Metrics()
    reporter = UnmappedReporter(metrics)
    reporter.report(
        tenant="acme", operation="op", codes=[UnmappedCode("insights", "A"), UnmappedCode("insights", "B")]
    )
    assert _count(metrics, "A") == 1
    assert _count(metrics, "B") == 1
