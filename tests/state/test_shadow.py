"""Shadow results: real comparisons round-trip, half-open time windows, retention."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import pytest

from proxy.state.records import ShadowResult
from proxy.state.sink import StoreShadowSink
from proxy.state.sqlite import SqliteStateStore
from proxy.state.store import StateStore
from tests.db.support import Database, write_behind_another_writer
from tests.state.support import AT, dt_answer, shadow

SINCE, UNTIL = AT - timedelta(days=1), AT + timedelta(days=1)

SAMPLES = {
    "matched": shadow(),
    "within-tolerance": shadow(pdt=dt_answer(43.5)),
    "differed": shadow(pdt=dt_answer(71.0, rating="Low", codes=("DT1001", "DT9999"))),
    "pdt-error": shadow(statuses=(200, 503), pdt={"Message": "unavailable"}, latencies=(90.0, 2000.0)),
    "both-errors": shadow(statuses=(400, 400), legacy={"errors": []}, pdt={"errors": []}),
    "not-json": shadow(statuses=(200, 200), legacy=[], pdt="text"),
}


@pytest.mark.parametrize("sample", SAMPLES.values(), ids=SAMPLES.keys())
async def test_a_result_reads_back_unchanged(store: StateStore, sample: ShadowResult) -> None:
    await store.save_shadow([sample])
    assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == [sample]


def test_the_samples_cover_what_a_backtest_reads() -> None:
    """The round trip above is only worth something if the comparisons are not trivial."""
    differed = SAMPLES["differed"].comparison
    assert SAMPLES["matched"].comparison.matched
    assert not differed.matched
    assert differed.numeric
    assert differed.sets
    assert differed.pairs
    assert {d.kind for d in differed.differences} >= {"tolerance", "missing", "extra"}
    assert SAMPLES["pdt-error"].comparison.differences[0].kind == "status"


async def test_a_batch_is_stored_oldest_first_whatever_the_order_given(store: StateStore) -> None:
    batch = [shadow(minutes=m, request_id=f"r{m}") for m in (5, 1, 3, 2, 4)]
    await store.save_shadow(batch)
    assert [r.request_id for r in await store.shadow_results("acme", since=SINCE, until=UNTIL)] == [
        "r1",
        "r2",
        "r3",
        "r4",
        "r5",
    ]


async def test_a_batch_is_one_transaction(store: StateStore) -> None:
    good = shadow(request_id="good")
    bad = replace(shadow(minutes=1), request_id=None)  # type: ignore[arg-type]
    with pytest.raises(Exception, match=r"(?i)not.null"):
        await store.save_shadow([good, bad])
    assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == []
    await store.save_shadow([good])
    assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == [good]


async def test_an_empty_batch_writes_nothing(store: StateStore) -> None:
    await store.save_shadow([])
    assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == []


MINUTES = (-1, 0, 1, 59, 60, 61)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (0, 60, [0, 1, 59]),
        (-10, 100, list(MINUTES)),
        (1, 2, [1]),
        (60, 60, []),
        (61, 0, []),
        (0, 0.0001, [0]),
    ],
)
async def test_the_window_is_half_open(
    store: StateStore, since: float, until: float, expected: list[int]
) -> None:
    await store.save_shadow([shadow(minutes=m, request_id=str(m)) for m in MINUTES])
    found = await store.shadow_results(
        "acme", since=AT + timedelta(minutes=since), until=AT + timedelta(minutes=until)
    )
    assert [int(r.request_id) for r in found] == expected


async def test_the_window_is_an_instant_in_any_offset(store: StateStore) -> None:
    await store.save_shadow([shadow()])
    sao_paulo = timezone(timedelta(hours=-3))
    local = AT.astimezone(sao_paulo)
    assert len(await store.shadow_results("acme", since=local, until=local + timedelta(seconds=1))) == 1
    assert await store.shadow_results("acme", since=local - timedelta(hours=1), until=local) == []


@pytest.mark.parametrize(
    ("tenant", "product", "expected"),
    [
        ("acme", None, ["acme-dt", "acme-ffr"]),
        ("acme", "ffr", ["acme-ffr"]),
        ("acme", "mobile-trust", []),
        ("beta", None, ["beta-dt"]),
        ("nobody", None, []),
    ],
)
async def test_results_are_per_tenant_and_optionally_per_product(
    store: StateStore, tenant: str, product: str | None, expected: list[str]
) -> None:
    await store.save_shadow(
        [
            shadow(minutes=0, request_id="acme-dt"),
            shadow(minutes=1, request_id="acme-ffr", product="ffr"),
            shadow(minutes=2, request_id="beta-dt", tenant="beta"),
        ]
    )
    found = await store.shadow_results(tenant, product=product, since=SINCE, until=UNTIL)
    assert [r.request_id for r in found] == expected


@pytest.mark.parametrize(
    ("before", "deleted", "left"),
    [
        (0, 2, [0, 5, 10]),
        (5, 3, [5, 10]),
        (11, 5, []),
        (-100, 0, [-10, -1, 0, 5, 10]),
    ],
)
async def test_prune_deletes_what_is_older_than_the_cutoff(
    store: StateStore, before: int, deleted: int, left: list[int]
) -> None:
    minutes = (-10, -1, 0, 5, 10)
    await store.save_shadow(
        [shadow(minutes=m, request_id=str(m), tenant=t) for m in minutes for t in ("acme", "beta")]
    )
    assert await store.prune_shadow(AT + timedelta(minutes=before)) == deleted * 2
    for tenant in ("acme", "beta"):
        assert [
            int(r.request_id) for r in await store.shadow_results(tenant, since=SINCE, until=UNTIL)
        ] == left


NAIVE = datetime(2026, 11, 20, 12, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda store: store.shadow_results("acme", since=NAIVE, until=UNTIL),
        lambda store: store.shadow_results("acme", since=SINCE, until=NAIVE),
        lambda store: store.prune_shadow(NAIVE),
        lambda store: store.save_shadow([replace(shadow(), at=NAIVE)]),
    ],
    ids=["since", "until", "before", "at"],
)
async def test_naive_times_are_refused(
    store: StateStore, call: Callable[[StateStore], Awaitable[object]]
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await call(store)


async def test_the_store_is_the_shadow_runners_sink(store: StateStore) -> None:
    results = [shadow(request_id="a"), shadow(minutes=1, request_id="b")]
    await StoreShadowSink(store).save(results)
    assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == results


async def test_the_summary_columns_agree_with_the_comparison(store: StateStore, database: Database) -> None:
    await store.save_shadow([SAMPLES["matched"], replace(SAMPLES["differed"], request_id="d")])
    rows = database.execute("SELECT request_id, matched, compared FROM shadow_result ORDER BY request_id")
    assert [(r, bool(m), c) for r, m, c in rows] == [
        ("d", False, SAMPLES["differed"].comparison.compared),
        ("req-1", True, SAMPLES["matched"].comparison.compared),
    ]


@pytest.mark.parametrize("batch", [1, 2, 3, 100])
async def test_sqlite_prunes_in_batches_and_counts_them_all(tmp_path: Path, batch: int) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3", prune_batch_rows=batch)
    await store.open()
    try:
        await store.save_shadow([shadow(minutes=m, request_id=str(m)) for m in range(7)])
        assert await store.prune_shadow(AT + timedelta(minutes=5)) == 5
        assert [r.request_id for r in await store.shadow_results("acme", since=SINCE, until=UNTIL)] == [
            "5",
            "6",
        ]
    finally:
        await store.close()


@pytest.mark.parametrize(("synchronous", "inline_commits"), [("NORMAL", 1), ("FULL", 0)])
async def test_a_sample_commits_on_the_loop_unless_each_commit_fsyncs(
    tmp_path: Path, synchronous: Literal["NORMAL", "FULL"], inline_commits: int
) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3", synchronous=synchronous)
    await store.open()
    try:
        await store.save_shadow([SAMPLES["differed"]])
        assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == [SAMPLES["differed"]]
        assert store.inline_stats.commits == inline_commits
    finally:
        await store.close()


async def test_a_sample_waits_on_the_thread_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStateStore(path)
    await store.open()
    try:
        await write_behind_another_writer(path, store.save_shadow([SAMPLES["matched"]]))
        assert await store.shadow_results("acme", since=SINCE, until=UNTIL) == [SAMPLES["matched"]]
        assert (store.inline_stats.busy, store.inline_stats.commits) == (1, 0)
    finally:
        await store.close()
