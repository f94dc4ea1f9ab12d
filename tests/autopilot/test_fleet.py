"""One decider in a fleet: two replicas on one database (SQLite file, PostgreSQL schema)
never promote the same step twice, through the lease or, without it, the once-per-step index."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from proxy.autopilot.records import DecisionRecord, PlanRecord
from proxy.autopilot_plan import parse_plan
from proxy.composition import build_runtime
from proxy.config import load_settings
from proxy.migration_stage import Stage
from proxy.runtime import Runtime
from tests.autopilot.support import SimClock
from tests.backtest.support import result
from tests.db.support import Database

GATES = {"min_samples": 40, "min_hours": 24, "min_distinct_days": 2, "min_breach_samples": 10}


@asynccontextmanager
async def replicas(database: Database, clock: SimClock, count: int = 2) -> AsyncIterator[list[Runtime]]:
    settings = load_settings(environ=database.environ(PROXY_AUTOPILOT_ENABLED="false"))
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(count):
            runtime = build_runtime(settings, clock=clock)
            await runtime.start()
            stack.push_async_callback(runtime.aclose)
            started.append(runtime)
        yield started


async def ready_in_shadow(runtime: Runtime, clock: SimClock) -> None:
    """demo-dt in shadow with two days of agreeing samples and a plan."""
    await runtime.stage_control.change("demo-dt", None, Stage("shadow"), "test")
    await runtime.state.save_shadow(
        [result(tenant="demo-dt", at=clock.now - timedelta(hours=hour)) for hour in range(1, 49)]
    )
    assert runtime.autopilot is not None
    plan = parse_plan({"gates": GATES}, runtime.autopilot.defaults)
    store = runtime.autopilot.store
    await store.put_plan(PlanRecord("demo-dt", None, plan.to_json(), "active", clock.now, clock.now, "test"))


async def autopilot_moves(runtime: Runtime) -> list[tuple[str, str]]:
    audit = await runtime.state.stage_audit(tenant="demo-dt")
    return [(change.from_stage, change.to_stage) for change in audit if change.actor == "autopilot"]


async def test_two_replicas_ticking_at_once_promote_once(database: Database) -> None:
    clock = SimClock()
    async with replicas(database, clock) as (one, two):
        await ready_in_shadow(one, clock)
        assert one.autopilot is not None
        assert two.autopilot is not None
        rounds = await asyncio.gather(one.autopilot.tick(), two.autopilot.tick())
        # One replica held the lease and decided; the other did nothing this round.
        assert sorted(len(outcomes) for outcomes in rounds) == [0, 1]
        assert await autopilot_moves(one) == [("shadow", "canary:5")]
        leader, other = (one, two) if rounds[0] else (two, one)
        assert leader.autopilot is not None
        assert other.autopilot is not None
        # The lease stays with its holder until it expires: the other replica still waits.
        assert await other.autopilot.tick() == []
        assert [o.verdict.decision for o in await leader.autopilot.tick()] == ["hold"]
        clock.advance(seconds=3 * other.autopilot.every_s + 1)
        later = await other.autopilot.tick()
        assert [o.verdict.decision for o in later] == ["hold"]
        assert await leader.autopilot.tick() == []
        assert await autopilot_moves(one) == [("shadow", "canary:5")]


async def test_without_the_lease_a_step_is_still_decided_once(database: Database) -> None:
    clock = SimClock()
    async with replicas(database, clock, count=3) as fleet:
        await ready_in_shadow(fleet[0], clock)
        # On-demand evaluations take no lease: three at the same instant.
        outcomes = await asyncio.gather(
            *(runtime.autopilot.evaluate("demo-dt", None) for runtime in fleet if runtime.autopilot)
        )
        assert sorted(outcome.applied for outcome in outcomes if outcome) == [False, False, True]
        assert {outcome.verdict.decision for outcome in outcomes if outcome} == {"promote"}
        assert await autopilot_moves(fleet[0]) == [("shadow", "canary:5")]
        stored = await fleet[0].autopilot_store.decisions("demo-dt")  # type: ignore[union-attr]
        assert [d.decision for d in stored] == ["promote"]


async def test_the_lease_is_taken_renewed_and_expires(database: Database) -> None:
    clock = SimClock()
    async with replicas(database, clock, count=1) as (runtime,):
        store = runtime.autopilot_store
        assert store is not None
        now = clock.now
        assert await store.acquire_lease("autopilot", "a", now=now, ttl_s=60)
        assert not await store.acquire_lease("autopilot", "b", now=now + timedelta(seconds=30), ttl_s=60)
        assert await store.acquire_lease("autopilot", "a", now=now + timedelta(seconds=50), ttl_s=60)
        # a renewed at +50 s: still its at +100 s, b's once it expires at +110 s.
        assert not await store.acquire_lease("autopilot", "b", now=now + timedelta(seconds=100), ttl_s=60)
        assert await store.acquire_lease("autopilot", "b", now=now + timedelta(seconds=110), ttl_s=60)
        await store.release_lease("autopilot", "b")
        assert await store.acquire_lease("autopilot", "c", now=now + timedelta(seconds=111), ttl_s=60)


async def test_holds_are_all_stored_a_move_once_per_step(database: Database) -> None:
    clock = SimClock()
    async with replicas(database, clock, count=1) as (runtime,):
        store = runtime.autopilot_store
        assert store is not None

        def decision(kind: str, minutes: int) -> DecisionRecord:
            return DecisionRecord(
                clock.now + timedelta(minutes=minutes),
                "demo-dt",
                None,
                kind,
                "canary:5",
                "canary:25" if kind == "promote" else "canary:5",
                clock.now,
                "why",
                {"samples": minutes},
            )

        assert await store.record_decision(decision("hold", 1))
        assert await store.record_decision(decision("hold", 2))
        assert await store.record_decision(decision("promote", 3))
        assert not await store.record_decision(decision("promote", 4))
        stored = await store.decisions("demo-dt")
        assert [(d.decision, d.figures["samples"]) for d in stored] == [
            ("promote", 3),
            ("hold", 2),
            ("hold", 1),
        ]
        assert stored[0].at == clock.now + timedelta(minutes=3)
        await store.forget_decision(decision("promote", 3))
        assert await store.record_decision(decision("promote", 5))
