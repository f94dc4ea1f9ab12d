"""Each upstream attempt, retries included, is its own span numbered from 1."""

from __future__ import annotations

import contextlib

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from proxy.config import BreakerSettings, ResilienceSettings
from proxy.errors import UpstreamUnavailable
from proxy.upstream.failures import ConnectFailed, ReadTimedOut, TransportFailure
from proxy.upstream.resilience import Reply, Resilience
from tests.tracing_support import spans

__all__ = ["spans"]

Step = Reply | Exception


async def _no_sleep(_seconds: float) -> None:
    return None


def _attempts(script: list[Step]) -> tuple[list[int], object]:
    calls: list[int] = []

    async def attempt() -> Reply:
        step = script[len(calls)]
        calls.append(1)
        if isinstance(step, Exception):
            raise step
        return step

    return calls, attempt


@pytest.mark.parametrize(
    ("script", "safe", "outcomes"),
    [
        ([Reply(200)], True, ["200"]),
        ([Reply(503), Reply(200)], True, ["503", "200"]),
        ([Reply(503)], False, ["503"]),
        ([ConnectFailed("refused"), Reply(201)], False, ["connect_error", "201"]),
        ([ReadTimedOut("slow"), ReadTimedOut("slow")], True, ["timeout", "timeout"]),
    ],
)
async def test_one_span_per_attempt(
    spans: InMemorySpanExporter, script: list[Step], safe: bool, outcomes: list[str]
) -> None:
    guard = Resilience(ResilienceSettings(), rng=lambda: 0.0, sleep=_no_sleep)
    target = guard.target("pdt", "https://pdt.example")
    calls, attempt = _attempts(script)
    with contextlib.suppress(TransportFailure):
        await guard.send(target, "get_all", attempt, safe=safe, timeout_s=1.0, remaining=lambda: 5.0)  # type: ignore[arg-type]
    finished = spans.get_finished_spans()
    assert [(s.attributes or {})["pdt_proxy.outcome"] for s in finished] == outcomes
    assert [(s.attributes or {})["pdt_proxy.attempt"] for s in finished] == list(range(1, len(outcomes) + 1))
    assert {s.name for s in finished} == {"pdt get_all"}
    assert {(s.attributes or {})["server.address"] for s in finished} == {"pdt.example"}
    assert len(calls) == len(outcomes)


async def test_a_refusal_by_the_open_breaker_is_a_span_too(spans: InMemorySpanExporter) -> None:
    settings = ResilienceSettings(breaker=BreakerSettings(consecutive_failures=1))
    guard = Resilience(settings, rng=lambda: 0.0, sleep=_no_sleep)
    target = guard.target("legacy", "http://legacy.example:8080")
    _, failing = _attempts([ReadTimedOut("slow")])
    with pytest.raises(ReadTimedOut):
        await guard.send(target, "forward", failing, safe=False, timeout_s=1.0, remaining=lambda: 5.0)  # type: ignore[arg-type]
    calls, attempt = _attempts([Reply(200)])
    with pytest.raises(UpstreamUnavailable):
        await guard.send(target, "forward", attempt, safe=True, timeout_s=1.0, remaining=lambda: 5.0)  # type: ignore[arg-type]
    assert calls == []
    outcomes = [(span.attributes or {})["pdt_proxy.outcome"] for span in spans.get_finished_spans()]
    assert outcomes == ["timeout", "circuit_open"]
    assert {(s.attributes or {})["server.address"] for s in spans.get_finished_spans()} == {
        "legacy.example:8080"
    }


async def test_no_span_when_tracing_is_off() -> None:
    guard = Resilience(ResilienceSettings(), rng=lambda: 0.0, sleep=_no_sleep)
    target = guard.target("pdt", "https://pdt.example")
    _, attempt = _attempts([Reply(200)])
    reply = await guard.send(target, "get_all", attempt, safe=True, timeout_s=1.0, remaining=lambda: 5.0)  # type: ignore[arg-type]
    assert reply.status == 200
