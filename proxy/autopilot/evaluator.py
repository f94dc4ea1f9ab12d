"""The autopilot's loop: every plan evaluated on a timer by the fleet's one leader.

Every ``evaluate_every_s`` each replica tries to take the ``autopilot`` lease in the
database; the one that holds it evaluates every active plan, the others wait for
the next tick (a crashed leader's lease expires after ``3 x evaluate_every_s``).
Beyond the lease, a promote or rollback is stored at most once per step (a unique
index on the step's start), so even two replicas that both believe they lead, or
an on-demand evaluation racing the leader, cannot move a tenant twice.

A stage change goes through the stage control (``proxy.stages.control``), like an
operator's: audited with actor ``autopilot`` and picked up by every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.autopilot.figures import step_figures
from proxy.autopilot.gates import GateResult, Verdict, decide, live_gates, shadow_gates
from proxy.autopilot.records import AUTOPILOT_ACTOR, DecisionRecord, PlanRecord
from proxy.autopilot.store import AutopilotStore
from proxy.autopilot_plan import AutopilotDefaults, Plan, parse_plan
from proxy.backtest.offload import backtest_off_loop
from proxy.comparison.rules import CompareRules
from proxy.migration_stage import Stage
from proxy.observability.logging import get_logger
from proxy.observability.metrics import Metrics
from proxy.stages.control import StageControl
from proxy.state.store import StateStore

__all__ = ["LEASE_NAME", "Autopilot", "Outcome"]

_log = get_logger(__name__)
LEASE_NAME = "autopilot"
# Rows written in the same instant as the evaluation still count (half-open windows).
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True)
class Outcome:
    """One evaluation: the verdict, the figures behind it, and whether it was stored."""

    tenant: str
    product: str | None
    verdict: Verdict
    figures: dict[str, Any]
    step_started: datetime
    # False: another replica (or evaluation) already took this step's decision.
    applied: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "decision": self.verdict.decision,
            "from": self.verdict.from_stage,
            "to": self.verdict.to_stage,
            "reason": self.verdict.reason,
            "severe": self.verdict.severe,
            "step_started": self.step_started.isoformat(),
            "figures": self.figures,
            "applied": self.applied,
        }


def _gates_json(gates: list[GateResult]) -> list[dict[str, Any]]:
    return [gate.to_json() for gate in gates]


class Autopilot:
    def __init__(
        self,
        store: AutopilotStore,
        state: StateStore,
        control: StageControl,
        rules: CompareRules,
        defaults: AutopilotDefaults,
        metrics: Metrics,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        every_s: float | None = None,
        holder: str | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.control = control
        self.rules = rules
        self.defaults = defaults
        self.metrics = metrics
        self.clock = clock
        self.every_s = every_s if every_s is not None else defaults.evaluate_every_s
        # Who holds the lease: the host and a random part (two workers on one host differ).
        self.holder = holder or f"{socket.gethostname()}:{secrets.token_hex(4)}"
        self._task: asyncio.Task[None] | None = None

    def plan_of(self, record: PlanRecord) -> Plan:
        return parse_plan(record.plan, self.defaults)

    async def tick(self) -> list[Outcome]:
        """One round: every active or halted plan, if this replica holds the lease."""
        if not await self.store.acquire_lease(
            LEASE_NAME, self.holder, now=self.clock(), ttl_s=3 * self.every_s
        ):
            return []
        await self.control.refresh()
        outcomes = []
        for record in await self.store.plans():
            if record.status == "paused":
                continue
            try:
                outcomes.append(await self._evaluate(record))
            except Exception:
                # One tenant's failure (its database rows, a refused stage) must not stop the others.
                _log.exception("autopilot evaluation failed", tenant=record.tenant, product=record.product)
        return outcomes

    async def evaluate(self, tenant: str, product: str | None, *, dry_run: bool = False) -> Outcome | None:
        """On demand (the admin API): None when the tenant has no plan. ``dry_run``:
        the figures and the decision it would take, nothing stored or changed."""
        record = await self.store.plan(tenant, product)
        if record is None:
            return None
        await self.control.refresh()
        return await self._evaluate(record, dry_run=dry_run)

    async def _step_started(self, record: PlanRecord) -> datetime:
        # The stage override in force says when the step began, for every replica alike;
        # a stage that comes from the tenant file started, for the plan, with the plan.
        overrides = {(o.tenant, o.product): o for o in await self.state.stage_overrides()}
        found = overrides.get((record.tenant, record.product)) or overrides.get((record.tenant, None))
        return found.at if found is not None else record.created_at

    async def _evaluate(self, record: PlanRecord, *, dry_run: bool = False) -> Outcome:
        plan = self.plan_of(record)
        now = self.clock()
        current = self.control.book.current(record.tenant, record.product).label
        started = await self._step_started(record)
        if record.status == "paused":
            verdict = Verdict("hold", current, current, "the plan is paused", [])
            return Outcome(record.tenant, record.product, verdict, {}, started, applied=False)
        figures: dict[str, Any]
        if current == "shadow":
            verdict, figures, baseline = await self._from_shadow(record, plan, current, now)
        else:
            verdict, figures = await self._live(record, plan, current, started, now)
            baseline = None
        figures = {**figures, "gates": _gates_json(verdict.gates)}
        decision = DecisionRecord(
            now,
            record.tenant,
            record.product,
            verdict.decision,
            verdict.from_stage,
            verdict.to_stage,
            started,
            verdict.reason,
            figures,
        )
        if dry_run:
            return Outcome(record.tenant, record.product, verdict, figures, started, applied=False)
        if not await self.store.record_decision(decision):
            _log.info(
                "autopilot step already decided elsewhere",
                tenant=record.tenant,
                product=record.product,
                stage=current,
            )
            return Outcome(record.tenant, record.product, verdict, figures, started, applied=False)
        if verdict.decision != "hold":
            try:
                await self.control.change(
                    record.tenant, record.product, Stage.parse(verdict.to_stage), AUTOPILOT_ACTOR
                )
            except Exception:
                # Not applied: the step may be decided again on the next round.
                await self.store.forget_decision(decision)
                raise
            if verdict.decision == "promote" and current == "shadow":
                await self.store.set_baseline(record.tenant, record.product, baseline)
            if verdict.decision == "rollback":
                await self.store.set_status(
                    record.tenant, record.product, "halted", at=now, actor=AUTOPILOT_ACTOR
                )
        self._report(record, verdict)
        return Outcome(record.tenant, record.product, verdict, figures, started)

    def _report(self, record: PlanRecord, verdict: Verdict) -> None:
        severity = "severe" if verdict.severe else ("breach" if verdict.decision == "rollback" else "none")
        self.metrics.count_autopilot(tenant=record.tenant, decision=verdict.decision, severity=severity)
        fields = {
            "tenant": record.tenant,
            "product": record.product,
            "decision": verdict.decision,
            "from_stage": verdict.from_stage,
            "to_stage": verdict.to_stage,
            "reason": verdict.reason,
        }
        if verdict.decision == "rollback":
            # The alert: a log line at warning level beside the metric above.
            _log.warning("autopilot rollback", severity=severity, **fields)
        else:
            _log.info("autopilot decision", **fields)

    async def _from_shadow(
        self, record: PlanRecord, plan: Plan, current: str, now: datetime
    ) -> tuple[Verdict, dict[str, Any], float | None]:
        since = now - timedelta(seconds=plan.window_s)
        results = await self.state.shadow_results(
            record.tenant, since=since, until=now + _EPSILON, product=record.product
        )
        gates = plan.gates
        readiness = self.rules.readiness.model_copy(
            update={
                "min_samples": gates.min_samples,
                "min_match_rate": gates.min_match_rate,
                "max_pdt_error_rate": gates.max_pdt_error_rate,
                "min_hours": gates.min_hours,
                "min_distinct_days": gates.min_distinct_days,
            }
        )
        backtest = await backtest_off_loop(
            record.tenant, results, replace(self.rules, readiness=readiness), window_from=since, window_to=now
        )
        figures = {
            "window_from": since.isoformat(),
            "window_to": now.isoformat(),
            "samples": backtest.samples,
            "hours": backtest.hours,
            "distinct_days": backtest.distinct_days,
            "match_rate": backtest.match_rate,
            "pdt_error_rate": backtest.pdt_error_rate,
            "legacy_p99_ms": backtest.legacy_latency.p99_ms,
            "pdt_p99_ms": backtest.pdt_latency.p99_ms,
        }
        verdict = decide(plan, record.status, current, shadow_gates(backtest, gates))
        return verdict, figures, backtest.legacy_latency.p99_ms

    async def _live(
        self, record: PlanRecord, plan: Plan, current: str, started: datetime, now: datetime
    ) -> tuple[Verdict, dict[str, Any]]:
        if current not in {stage.label for stage in plan.stages}:
            return decide(plan, record.status, current, []), {}
        rows = await self.store.step_rows(
            record.tenant, record.product, current, since=started, until=now + _EPSILON
        )
        shadow = await self.state.shadow_results(
            record.tenant, since=started, until=now + _EPSILON, product=record.product
        )
        figures = step_figures(
            rows,
            shadow,
            baseline_p99_ms=record.baseline_p99_ms,
            min_reference=plan.gates.min_breach_samples,
        )
        held_s = (now - started).total_seconds()
        gates = live_gates(figures, plan.gates, held_s=held_s, hold_s=plan.hold_s)
        verdict = decide(plan, record.status, current, gates, figures)
        return verdict, {"step_started": started.isoformat(), "held_s": round(held_s, 3), **figures.to_json()}

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await self.tick()
            except Exception:
                _log.warning("autopilot round failed; trying again next round", exc_info=True)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self.store.release_lease(LEASE_NAME, self.holder)
