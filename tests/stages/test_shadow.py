"""The shadow runner: sampled, bounded, off the answer's path, compared and stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import orjson
import pytest

from proxy.comparison.rules import load_compare_rules
from proxy.observability.metrics import Metrics
from proxy.stages.dispatch import Answer, Exchange
from proxy.stages.shadow import ShadowRunner
from proxy.state.records import ShadowResult

from .support import CATALOG, LEGACY_ANSWER, exchange

RULES = load_compare_rules(CATALOG)


class Sink:
    def __init__(self) -> None:
        self.results: list[ShadowResult] = []

    async def save(self, results: Sequence[ShadowResult]) -> None:
        self.results.extend(results)


def legacy_answer(body: bytes = LEGACY_ANSWER, status: int = 200) -> Answer:
    return Answer(
        status=status,
        body=body,
        content_type="application/json",
        side="legacy",
        stage="shadow",
        elapsed_ms=12.0,
    )


def pdt_body(score: float) -> bytes:
    return orjson.dumps(
        {
            "transactionId": "P-1",
            "identifierId": None,
            "createdAt": "2026-11-22T10:00:01.000Z",
            "score": score,
            "ratings": [],
            "insights": [],
        }
    )


class FakePdt:
    def __init__(self, body: bytes, *, status: int = 200, gate: asyncio.Event | None = None) -> None:
        self.body, self.status, self.gate = body, status, gate
        self.calls = 0

    async def __call__(self, exchange: Exchange, stage: str) -> Answer:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        return Answer(
            status=self.status,
            body=self.body,
            content_type="application/json",
            side="pdt",
            stage=stage,
            elapsed_ms=30.0,
        )


def runner(pdt: FakePdt, sink: Sink, metrics: Metrics, **options: float) -> ShadowRunner:
    settings = {"sample_rate": 1.0, "queue_size": 10, "workers": 2, "timeout_s": 5.0, **options}
    return ShadowRunner(
        pdt,
        RULES,
        sink,
        metrics,
        sample_rate=settings["sample_rate"],
        queue_size=int(settings["queue_size"]),
        workers=int(settings["workers"]),
        timeout_s=settings["timeout_s"],
        sample=lambda: 0.5,
    )


def counted(metrics: Metrics, name: str) -> str:
    body, _ = metrics.render()
    return "\n".join(line for line in body.decode().splitlines() if line.startswith(name + "{"))


@pytest.mark.parametrize(
    ("score", "outcome", "differences"),
    [(41.0, "matched", 0), (44.0, "matched", 0), (60.0, "differed", 1)],
    ids=["same", "within-tolerance", "beyond-tolerance"],
)
async def test_a_sampled_request_is_compared_and_stored(score: float, outcome: str, differences: int) -> None:
    sink, metrics = Sink(), Metrics()
    shadow = runner(FakePdt(pdt_body(score)), sink, metrics)
    assert shadow.offer(exchange(), legacy_answer())
    await shadow.drain(5.0)
    [result] = sink.results
    assert (result.tenant, result.product, result.operation) == (
        "acme",
        "datatrust-v1",
        "datatrust.transaction.create",
    )
    assert (result.legacy_status, result.pdt_status, result.legacy_ms, result.pdt_ms) == (
        200,
        200,
        12.0,
        30.0,
    )
    assert len(result.comparison.differences) == differences
    assert result.comparison.numeric["score"] == (41.0, score)
    assert f'outcome="{outcome}"' in counted(metrics, "pdt_proxy_shadow_comparisons_total")


async def test_offer_never_waits_for_pdt() -> None:
    gate = asyncio.Event()
    pdt, sink = FakePdt(pdt_body(41.0), gate=gate), Sink()
    shadow = runner(pdt, sink, Metrics())
    assert shadow.offer(exchange(), legacy_answer())  # returns while PDT is held at the gate
    await asyncio.sleep(0)
    assert sink.results == []
    gate.set()
    await shadow.drain(5.0)
    assert len(sink.results) == 1


async def test_a_full_queue_drops_and_counts() -> None:
    gate = asyncio.Event()
    metrics = Metrics()
    shadow = runner(FakePdt(pdt_body(41.0), gate=gate), Sink(), metrics, queue_size=2, workers=1)
    accepted = [shadow.offer(exchange(), legacy_answer()) for _ in range(6)]
    await asyncio.sleep(0)  # the worker takes one job; two more fit in the queue
    accepted += [shadow.offer(exchange(), legacy_answer()) for _ in range(2)]
    assert accepted.count(True) <= 4
    assert accepted.count(False) >= 4
    assert 'reason="queue_full"' in counted(metrics, "pdt_proxy_shadow_dropped_total")
    gate.set()
    await shadow.drain(5.0)


@pytest.mark.parametrize(
    ("rate", "transaction_id", "expected", "metric"),
    [
        (0.0, None, 'outcome="not_sampled"', "pdt_proxy_shadow_comparisons_total"),
        (1.0, "L-1", 'reason="by_id"', "pdt_proxy_shadow_dropped_total"),
    ],
    ids=["not-sampled", "by-id"],
)
async def test_requests_not_shadowed(
    rate: float, transaction_id: str | None, expected: str, metric: str
) -> None:
    pdt, metrics = FakePdt(pdt_body(41.0)), Metrics()
    shadow = runner(pdt, Sink(), metrics, sample_rate=rate)
    operation = "datatrust.transaction.get" if transaction_id else "datatrust.transaction.create"
    assert not shadow.offer(exchange(operation, transaction_id=transaction_id), legacy_answer())
    await shadow.drain(1.0)
    assert pdt.calls == 0
    assert expected in counted(metrics, metric)


async def test_a_slow_pdt_side_times_out_without_a_result() -> None:
    sink, metrics = Sink(), Metrics()
    shadow = runner(FakePdt(pdt_body(41.0), gate=asyncio.Event()), sink, metrics, timeout_s=0.05)
    shadow.offer(exchange(), legacy_answer())
    await shadow.drain(5.0)
    assert sink.results == []
    assert 'outcome="timeout"' in counted(metrics, "pdt_proxy_shadow_comparisons_total")


async def test_a_failing_sink_loses_the_sample_not_the_worker() -> None:
    class Broken(Sink):
        async def save(self, results: Sequence[ShadowResult]) -> None:
            raise OSError("disk full")

    metrics = Metrics()
    shadow = runner(FakePdt(pdt_body(41.0)), Broken(), metrics, workers=1)
    shadow.offer(exchange(), legacy_answer())
    shadow.offer(exchange(), legacy_answer())
    await shadow.drain(5.0)
    line = counted(metrics, "pdt_proxy_shadow_comparisons_total")
    assert 'outcome="failed"' in line
    assert line.endswith(" 2.0")


async def test_statuses_are_compared_when_a_side_fails() -> None:
    sink = Sink()
    shadow = runner(FakePdt(b'{"message":"x"}', status=503), sink, Metrics())
    shadow.offer(exchange(), legacy_answer())
    await shadow.drain(5.0)
    [difference] = sink.results[0].comparison.differences
    assert (difference.kind, difference.legacy, difference.pdt) == ("status", 200, 503)


async def test_after_drain_nothing_is_accepted() -> None:
    metrics = Metrics()
    shadow = runner(FakePdt(pdt_body(41.0)), Sink(), metrics)
    await shadow.drain(1.0)
    assert not shadow.offer(exchange(), legacy_answer())
    assert 'reason="stopping"' in counted(metrics, "pdt_proxy_shadow_dropped_total")


async def test_each_sample_logs_under_its_own_request_id() -> None:
    from proxy.observability.logging import bind_request_id, current_request_id

    seen: list[str | None] = []

    class Peek(FakePdt):
        async def __call__(self, exchange: Exchange, stage: str) -> Answer:
            seen.append(current_request_id())
            return await super().__call__(exchange, stage)

    # The workers start inside this "request"; the sample belongs to request "req-1".
    bind_request_id("first-request-id")
    shadow = runner(Peek(pdt_body(41.0)), Sink(), Metrics())
    shadow.offer(exchange(), legacy_answer())
    await shadow.drain(5.0)
    assert seen == ["req-1"]
