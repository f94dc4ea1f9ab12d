"""pdt_proxy_tenant_stage: each tenant's product and the stage it is in, read at scrape time."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from proxy.composition import create_app
from proxy.config import Settings
from proxy.migration_stage import Stage
from proxy.observability.metrics import Metrics


def _stages(metrics: Metrics) -> set[tuple[str, str, str, float]]:
    body, _ = metrics.render()
    return {
        (sample.labels["tenant"], sample.labels["product"], sample.labels["stage"], sample.value)
        for family in text_string_to_metric_families(body.decode())
        if family.name == "pdt_proxy_tenant_stage"
        for sample in family.samples
    }


def test_the_gauge_follows_runtime_stage_changes(settings: Settings) -> None:
    runtime = create_app(settings).runtime
    assert _stages(runtime.metrics) == {
        ("demo-dt", "datatrust-v1", "pdt", 1.0),
        ("demo-ffr", "ffr", "pdt", 1.0),
        ("demo-mt", "mobile-trust", "pdt", 1.0),
    }
    runtime.stages.apply("demo-dt", None, Stage.parse("canary:10"))
    runtime.stages.apply("demo-mt", "mobile-trust", Stage.parse("shadow"))
    assert _stages(runtime.metrics) == {
        ("demo-dt", "datatrust-v1", "canary:10", 1.0),
        ("demo-ffr", "ffr", "pdt", 1.0),
        ("demo-mt", "mobile-trust", "shadow", 1.0),
    }


def test_labels_from_the_source_are_sanitized() -> None:
    metrics = Metrics()
    metrics.track_stages(lambda: [("tenant 12345678909", "ffr", "pdt")])
    ((tenant, product, stage, value),) = _stages(metrics)
    assert "12345678909" not in tenant
    assert " " not in tenant
    assert (product, stage, value) == ("ffr", "pdt", 1.0)
