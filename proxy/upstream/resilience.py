"""The guard around every upstream attempt: breaker, per-attempt timeout, safe retries, metrics.

Both upstream clients (PDT and the legacy backends) send through ``Resilience.send``,
so the same rules hold for every host the proxy calls::

    breaker permit? ──no──► UpstreamUnavailable (no I/O)
        │yes
    attempt, bounded by min(call timeout, what is left of the request's deadline)
        │
    outcome ──► breaker (5xx, 429, timeouts and connection failures count against the host)
        │
    failed and safe to repeat (``proxy.upstream.retry``), budget left, time left?
        ──yes──► jittered backoff (or Retry-After), next attempt
        ──no───► the last reply, or the last failure, to the caller

One ``Resilience`` per process (per worker): breakers and budgets are per host and
local, as in every sidecar gateway; nothing is shared between replicas.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from proxy.config import ResilienceSettings
from proxy.errors import UpstreamUnavailable
from proxy.observability import tracing
from proxy.observability.labels import host_of
from proxy.observability.metrics import Metrics
from proxy.upstream.breaker import BreakerBoard, BreakerState, CircuitBreaker
from proxy.upstream.failures import ProtocolFailed, TimedOut, TransportFailure
from proxy.upstream.retry import RETRYABLE_STATUSES, RetryBudget, backoff_s, is_unsent, retry_after_s

__all__ = ["Reply", "Resilience", "UpstreamTarget"]


@dataclass(frozen=True, slots=True)
class Reply:
    """One upstream answer as the clients use it: error bodies are not always read."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    retry_after: str | None = None


@dataclass(frozen=True, slots=True)
class UpstreamTarget:
    """One upstream host as a client calls it: its breaker, its retry budget, its label."""

    upstream: str  # "pdt" or "legacy": who, for metrics and messages
    host: str
    breaker: CircuitBreaker
    budget: RetryBudget


def _outcome_of(error: BaseException) -> str:
    if isinstance(error, TimeoutError | TimedOut):
        return "timeout"
    if is_unsent(error):
        return "connect_error"
    if isinstance(error, ProtocolFailed):
        return "protocol_error"
    return "reset"


class Resilience:
    def __init__(
        self,
        settings: ResilienceSettings,
        metrics: Metrics | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._retry = settings.retry
        self._metrics = metrics
        self._clock = clock
        self._rng = rng
        self._sleep = sleep
        self.breakers = BreakerBoard(settings.breaker, clock=clock, on_change=self._breaker_moved)
        self._targets: dict[tuple[str, str], UpstreamTarget] = {}

    def target(self, upstream: str, base_url: str) -> UpstreamTarget:
        """The target for ``base_url`` (one breaker and budget per host, whoever calls it)."""
        host = host_of(base_url)
        found = self._targets.get((upstream, host))
        if found is None:
            found = UpstreamTarget(
                upstream,
                host,
                self.breakers.for_host(host),
                RetryBudget(self._retry, clock=self._clock),
            )
            self._targets[(upstream, host)] = found
        return found

    def states(self) -> dict[str, dict[str, BreakerState]]:
        found: dict[str, dict[str, BreakerState]] = {}
        for (upstream, host), target in sorted(self._targets.items()):
            found.setdefault(upstream, {})[host] = target.breaker.state
        return found

    async def send(
        self,
        target: UpstreamTarget,
        call: str,
        attempt: Callable[[], Awaitable[Reply]],
        *,
        safe: bool,
        timeout_s: float,
        remaining: Callable[[], float],
    ) -> Reply:
        """``attempt()`` under the rules above; ``safe`` when repeating it cannot apply it twice.

        ``timeout_s`` bounds one attempt, ``remaining()`` is what is left of the whole
        call's time: no attempt or wait is started that could not finish within it.
        """
        target.budget.deposit()
        retries = 0
        while True:
            # One span per attempt when tracing is on; off, this is one attribute read.
            tracer = tracing.STATE.tracer
            span = (
                None
                if tracer is None
                else tracing.start_attempt(
                    tracer, upstream=target.upstream, host=target.host, call=call, attempt=retries + 1
                )
            )
            permit = target.breaker.acquire()
            if permit is None:
                self._observe(target, call, "circuit_open", 0.0)
                if span is not None:
                    tracing.end_attempt(span, "circuit_open")
                raise UpstreamUnavailable(
                    f'{target.upstream} call="{call}" not sent: the circuit of its host is open',
                    upstream=target.upstream,
                    call=call,
                )
            started = self._clock()
            budget_s = min(timeout_s, remaining())
            try:
                async with asyncio.timeout(budget_s):
                    reply = await attempt()
            except (TransportFailure, TimeoutError) as error:
                target.breaker.record(permit, failed=True)
                outcome = _outcome_of(error)
                self._observe(target, call, outcome, self._clock() - started)
                if span is not None:
                    tracing.end_attempt(span, outcome)
                if (safe or is_unsent(error)) and self._may_retry(target, retries, remaining, None):
                    retries += 1
                    self._count_retry(target, call, outcome)
                    await self._sleep(backoff_s(retries, self._retry, self._rng))
                    continue
                raise
            except BaseException as error:
                # Cancelled from outside (a sibling module failed, the client went away):
                # no outcome to hold against the host.
                target.breaker.release(permit)
                if span is not None:
                    tracing.end_attempt(
                        span, "cancelled" if isinstance(error, asyncio.CancelledError) else "error"
                    )
                raise
            status = reply.status
            target.breaker.record(permit, failed=status >= 500 or status == 429)
            self._observe(target, call, str(status), self._clock() - started)
            if span is not None:
                tracing.end_attempt(span, str(status))
            if safe and status in RETRYABLE_STATUSES:
                wait = self._wait_before_retry(retries, reply)
                if wait is not None and self._may_retry(target, retries, remaining, wait):
                    retries += 1
                    self._count_retry(target, call, str(status))
                    await self._sleep(wait)
                    continue
            return reply

    def _wait_before_retry(self, retries: int, reply: Reply) -> float | None:
        """How long to wait before repeating ``reply``'s call; None when it must not be."""
        jitter = backoff_s(retries + 1, self._retry, self._rng)
        asked = retry_after_s(reply.retry_after)
        if asked is None:
            return jitter
        if asked > self._retry.max_retry_after_s:
            # The host asked for more patience than the legacy client has: answer now.
            return None
        return max(asked, jitter)

    def _may_retry(
        self, target: UpstreamTarget, retries: int, remaining: Callable[[], float], wait: float | None
    ) -> bool:
        if retries >= self._retry.max_retries:
            return False
        # Worth it only if an attempt of reasonable length still fits after the wait.
        upper_wait = self._retry.max_backoff_ms / 1000 if wait is None else wait
        if remaining() < upper_wait + self._retry.min_attempt_s:
            return False
        return target.budget.try_spend()

    def _observe(self, target: UpstreamTarget, call: str, outcome: str, duration_s: float) -> None:
        if self._metrics is not None:
            self._metrics.observe_upstream(
                upstream=target.upstream, call=call, outcome=outcome, duration_s=duration_s
            )

    def _count_retry(self, target: UpstreamTarget, call: str, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.count_retry(upstream=target.upstream, call=call, reason=reason)

    def _breaker_moved(self, host: str, state: BreakerState) -> None:
        if self._metrics is not None:
            self._metrics.breaker_moved(host=host, state=state)
