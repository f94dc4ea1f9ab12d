"""The shadow stage's second half: PDT runs beside the legacy answer, never in its way.

The legacy answer has already gone to the client (or is about to) when ``offer``
is called; ``offer`` never awaits. A sampled request joins a bounded queue; a full
queue drops it (counted): under a burst the backtest loses samples, the client
loses nothing. A fixed set of workers runs each queued request through the PDT
side with its own deadline, compares the two legacy-shaped answers with the
declared rules (``mappings/compare.yaml``) and hands the masked result to a sink
(the database in production).

Requests by transaction id are not shadowed: the id the client holds is the
legacy backend's, which PDT has never seen (counted as ``by_id``).
"""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from proxy.comparison.engine import compare_answers
from proxy.comparison.rules import CompareRules
from proxy.observability.logging import bind_request_id, get_logger
from proxy.observability.metrics import Metrics
from proxy.stages.dispatch import Answer, Exchange
from proxy.state.records import ShadowResult

__all__ = ["ShadowRunner", "ShadowSink"]

_log = get_logger(__name__)


class ShadowSink(Protocol):
    async def save(self, results: Sequence[ShadowResult]) -> None:
        """Store results durably enough for a report (losing one on a crash is acceptable)."""


@dataclass(frozen=True, slots=True)
class _Job:
    exchange: Exchange
    legacy: Answer
    at: datetime


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


class ShadowRunner:
    def __init__(
        self,
        run_pdt: Callable[[Exchange, str], Awaitable[Answer]],
        rules: CompareRules,
        sink: ShadowSink,
        metrics: Metrics,
        *,
        sample_rate: float,
        queue_size: int,
        workers: int,
        timeout_s: float,
        sample: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._run_pdt = run_pdt
        self._rules = rules
        self._sink = sink
        self._metrics = metrics
        self._sample_rate = sample_rate
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=queue_size)
        self._worker_count = workers
        self._timeout_s = timeout_s
        self._sample = sample
        self._now = now
        self._workers: list[asyncio.Task[None]] = []
        self._accepting = True

    def use_rules(self, rules: CompareRules) -> None:
        """Compare with a reloaded ``compare.yaml`` from the next sample on."""
        self._rules = rules

    def offer(self, exchange: Exchange, legacy: Answer) -> bool:
        """Queue ``exchange`` for its PDT side if sampled and there is room; never blocks."""
        tenant, product = exchange.tenant.id, exchange.product.name
        if not self._accepting:
            self._metrics.count_shadow_dropped(tenant=tenant, product=product, reason="stopping")
            return False
        if exchange.transaction_id is not None:
            self._metrics.count_shadow_dropped(tenant=tenant, product=product, reason="by_id")
            return False
        if self._sample() >= self._sample_rate:
            self._metrics.count_shadow(tenant=tenant, product=product, outcome="not_sampled")
            return False
        try:
            self._queue.put_nowait(_Job(exchange, legacy, self._now()))
        except asyncio.QueueFull:
            self._metrics.count_shadow_dropped(tenant=tenant, product=product, reason="queue_full")
            return False
        self._start_workers()
        return True

    def _start_workers(self) -> None:
        if not self._workers:
            loop = asyncio.get_running_loop()
            # A fresh context: started inside the first sampled request, the workers must
            # not carry its request id; each job binds its own (see _work).
            self._workers = [
                loop.create_task(self._work(), context=contextvars.Context())
                for _ in range(self._worker_count)
            ]

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            # Every line this sample logs (PDT calls included) names its own request.
            bind_request_id(job.exchange.request_id)
            try:
                await self._one(job)
            except Exception:
                # A failed sample is lost, the worker is not: the next one still runs.
                _log.exception("shadow comparison failed", request_id=job.exchange.request_id)
                self._metrics.count_shadow(
                    tenant=job.exchange.tenant.id, product=job.exchange.product.name, outcome="failed"
                )
            finally:
                self._queue.task_done()

    async def _one(self, job: _Job) -> None:
        exchange, legacy = job.exchange, job.legacy
        tenant, product = exchange.tenant.id, exchange.product.name
        try:
            async with asyncio.timeout(self._timeout_s):
                pdt = await self._run_pdt(exchange, legacy.stage)
        except TimeoutError:
            self._metrics.count_shadow(tenant=tenant, product=product, outcome="timeout")
            return
        comparison = compare_answers(
            self._rules.for_operation(exchange.operation.name),
            legacy.status,
            _json(legacy.body),
            pdt.status,
            _json(pdt.body),
        )
        await self._sink.save(
            [
                ShadowResult(
                    job.at,
                    tenant,
                    product,
                    exchange.operation.name,
                    exchange.environment,
                    exchange.request_id,
                    legacy.status,
                    pdt.status,
                    legacy.elapsed_ms,
                    pdt.elapsed_ms,
                    comparison,
                )
            ]
        )
        outcome = "thin" if comparison.thin else "matched" if comparison.matched else "differed"
        self._metrics.count_shadow(tenant=tenant, product=product, outcome=outcome)

    async def settled(self) -> None:
        """Wait until every sample queued so far is compared and stored (tests, demos)."""
        await self._queue.join()

    async def drain(self, timeout_s: float) -> None:
        """Stop taking samples, finish the queued ones for up to ``timeout_s``, stop the workers."""
        self._accepting = False
        if self._workers:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._queue.join()
            except TimeoutError:
                _log.warning("shadow queue not drained before shutdown", left=self._queue.qsize())
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    @property
    def queued(self) -> int:
        return self._queue.qsize()
