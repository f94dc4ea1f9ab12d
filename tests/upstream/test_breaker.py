"""The circuit breaker's state machine, driven by a clock that moves only when told."""

from __future__ import annotations

import asyncio

import pytest

from proxy.config import BreakerSettings
from proxy.upstream.breaker import BreakerBoard, BreakerState, CircuitBreaker
from tests.upstream.support import FakeClock

SETTINGS = BreakerSettings(
    window_s=10, min_calls=10, failure_ratio=0.5, consecutive_failures=5, open_s=5, half_open_probes=1
)


def breaker(clock: FakeClock, moves: list[BreakerState] | None = None) -> CircuitBreaker:
    def moved(name: str, state: BreakerState) -> None:
        if moves is not None:
            moves.append(state)

    return CircuitBreaker("pdt.test", SETTINGS, clock=clock, on_change=moved)


def feed(target: CircuitBreaker, outcomes: str) -> None:
    """``outcomes``: one letter per call, ``f`` failed, ``s`` succeeded."""
    for letter in outcomes:
        permit = target.acquire()
        assert permit is not None, "the breaker refused a call the test expected it to let through"
        target.record(permit, failed=letter == "f")


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [
        pytest.param("", "closed", id="no traffic"),
        pytest.param("ffff", "closed", id="four in a row: under the consecutive threshold"),
        pytest.param("fffff", "open", id="five in a row open it"),
        pytest.param("fsfsfsfs", "closed", id="half failing but under min_calls"),
        pytest.param("sfsfsfsfsf", "open", id="half of ten failing opens it"),
        pytest.param("fsfsfsfsfs", "closed", id="judged on a failure: a success never opens it"),
        pytest.param("fssfssfssfss", "closed", id="a third failing stays closed"),
        pytest.param("ffffsffffsf", "open", id="ratio reached although never five in a row"),
    ],
)
def test_what_opens_the_circuit(outcomes: str, state: BreakerState) -> None:
    target = breaker(FakeClock())
    feed(target, outcomes)
    assert target.state == state


def test_an_open_circuit_refuses_until_open_s_then_lets_one_probe_through() -> None:
    clock = FakeClock()
    target = breaker(clock)
    feed(target, "fffff")
    assert target.acquire() is None
    clock.advance(4.9)
    assert target.acquire() is None
    clock.advance(0.2)
    probe = target.acquire()
    assert probe is not None
    assert probe.probe
    assert target.state == "half_open"
    # One probe at a time (half_open_probes=1): the rest are still refused.
    assert target.acquire() is None


@pytest.mark.parametrize(
    ("waited_s", "state"),
    [
        pytest.param(4.9, "open", id="before open_s: still open"),
        pytest.param(5.0, "half_open", id="at open_s: half-open"),
        pytest.param(3600.0, "half_open", id="long after: half-open, not closed"),
    ],
)
def test_an_open_circuit_half_opens_on_time_without_any_call(waited_s: float, state: BreakerState) -> None:
    clock = FakeClock()
    moves: list[BreakerState] = []
    target = breaker(clock, moves)
    feed(target, "fffff")
    clock.advance(waited_s)
    assert target.state == state
    assert moves == (["open"] if state == "open" else ["open", state])


async def test_in_an_event_loop_the_move_to_half_open_is_made_by_a_timer() -> None:
    # Nobody reads the state or calls: the on_change callback (the metric gauge's
    # feed) still hears of the move, so an idle replica does not report "open" forever.
    moves: list[BreakerState] = []
    half_opened = asyncio.Event()

    def moved(name: str, state: BreakerState) -> None:
        moves.append(state)
        if state == "half_open":
            half_opened.set()

    target = CircuitBreaker("pdt.test", SETTINGS.model_copy(update={"open_s": 0.05}), on_change=moved)
    feed(target, "fffff")
    async with asyncio.timeout(5):
        await half_opened.wait()
    assert moves == ["open", "half_open"]


@pytest.mark.parametrize(
    ("probe_failed", "state", "next_call_allowed"),
    [
        pytest.param(False, "closed", True, id="a good probe closes it"),
        pytest.param(True, "open", False, id="a failed probe reopens it"),
    ],
)
def test_the_probe_decides(probe_failed: bool, state: BreakerState, next_call_allowed: bool) -> None:
    clock = FakeClock()
    moves: list[BreakerState] = []
    target = breaker(clock, moves)
    feed(target, "fffff")
    clock.advance(5)
    probe = target.acquire()
    assert probe is not None
    target.record(probe, failed=probe_failed)
    assert target.state == state
    assert (target.acquire() is not None) is next_call_allowed
    assert moves == ["open", "half_open", state]


def test_a_cancelled_probe_frees_its_slot() -> None:
    clock = FakeClock()
    target = breaker(clock)
    feed(target, "fffff")
    clock.advance(5)
    probe = target.acquire()
    assert probe is not None
    target.release(probe)
    assert target.acquire() is not None
    assert target.state == "half_open"


def test_old_failures_leave_the_window() -> None:
    clock = FakeClock()
    target = breaker(clock)
    feed(target, "fsfsfsfs")  # 4 of 8 failed, under min_calls
    clock.advance(25)  # two windows later: forgotten
    feed(target, "ssf")
    feed(target, "sf")
    assert target.state == "closed"


def test_the_previous_window_still_counts_in_part() -> None:
    clock = FakeClock()
    target = breaker(clock)
    feed(target, "fsfsfsfs")
    clock.advance(11)  # just past one window: the old bucket weighs 0.9
    feed(target, "fff")  # 3 + 0.9 * 8 calls, 3 + 0.9 * 4 failures: 65 %
    assert target.state == "open"


def test_outcomes_of_calls_let_through_before_opening_are_ignored() -> None:
    clock = FakeClock()
    target = breaker(clock)
    late = target.acquire()
    assert late is not None
    feed(target, "fffff")
    target.record(late, failed=False)
    assert target.state == "open"


def test_the_board_keeps_one_breaker_per_host() -> None:
    board = BreakerBoard(SETTINGS, clock=FakeClock())
    assert board.for_host("a.test") is board.for_host("a.test")
    assert board.for_host("a.test") is not board.for_host("b.test")
    feed(board.for_host("b.test"), "fffff")
    assert board.states() == {"a.test": "closed", "b.test": "open"}
