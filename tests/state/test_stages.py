"""Stage overrides and their audit log, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from proxy.state.records import StageChange, StageOverride
from proxy.state.store import StateStore
from tests.db.support import Database
from tests.state.support import AT, change


async def test_a_fresh_store_has_no_override_and_no_audit(store: StateStore) -> None:
    assert await store.stage_overrides() == []
    assert await store.stage_audit() == []


@pytest.mark.parametrize(
    "made",
    [
        change(),
        change(product="ffr", from_stage="shadow", to_stage="canary:10"),
        change(product="mobile-trust", from_stage="canary:100", to_stage="pdt-fallback", actor="Maria Ops"),
        change(from_stage="pdt", to_stage="legacy", at=AT + timedelta(microseconds=123456)),
        change(to_stage="canary:0"),
    ],
    ids=["default", "product-canary", "named-actor", "rollback-micros", "canary-0"],
)
async def test_a_change_reads_back_as_override_and_audit_row(store: StateStore, made: StageChange) -> None:
    await store.set_stage(made)
    assert await store.stage_overrides() == [made.override]
    assert await store.stage_audit() == [made]


async def test_a_second_change_replaces_the_override_and_both_are_audited(store: StateStore) -> None:
    first = change(to_stage="shadow")
    second = change(at=AT + timedelta(hours=1), from_stage="shadow", to_stage="canary:10", actor="maria")
    await store.set_stage(first)
    await store.set_stage(second)
    assert await store.stage_overrides() == [StageOverride("acme", None, "canary:10", second.at, "maria")]
    assert await store.stage_audit() == [second, first]


async def test_the_tenant_default_and_each_product_are_separate_keys(store: StateStore) -> None:
    changes = [
        change(tenant="beta", product="ffr", to_stage="pdt"),
        change(tenant="acme", product="ffr", to_stage="canary:5"),
        change(tenant="acme", product=None, to_stage="shadow"),
        change(tenant="beta", product=None, to_stage="legacy", from_stage="shadow"),
        change(tenant="acme", product="datatrust-v1", to_stage="pdt-fallback"),
    ]
    for made in changes:
        await store.set_stage(made)
    overrides = await store.stage_overrides()
    # Ordered by tenant, then product with the default first.
    assert [(o.tenant, o.product, o.stage) for o in overrides] == [
        ("acme", None, "shadow"),
        ("acme", "datatrust-v1", "pdt-fallback"),
        ("acme", "ffr", "canary:5"),
        ("beta", None, "legacy"),
        ("beta", "ffr", "pdt"),
    ]


@pytest.mark.parametrize(
    ("tenant", "limit", "expected"),
    [
        (None, 1000, ["b3", "a2", "b1", "a0"]),
        ("acme", 1000, ["a2", "a0"]),
        ("beta", 1, ["b3"]),
        (None, 2, ["b3", "a2"]),
        ("nobody", 10, []),
        (None, 0, []),
    ],
)
async def test_the_audit_is_newest_first_per_tenant_and_limited(
    store: StateStore, tenant: str | None, limit: int, expected: list[str]
) -> None:
    for i, name in enumerate(["acme", "beta", "acme", "beta"]):
        await store.set_stage(change(tenant=name, at=AT + timedelta(minutes=i), actor=f"{name[0]}{i}"))
    assert [c.actor for c in await store.stage_audit(tenant=tenant, limit=limit)] == expected


async def test_changes_at_the_same_instant_stay_in_the_order_they_were_made(store: StateStore) -> None:
    for stage in ("shadow", "canary:10", "pdt"):
        await store.set_stage(change(to_stage=stage))
    assert [c.to_stage for c in await store.stage_audit()] == ["pdt", "canary:10", "shadow"]
    assert [o.stage for o in await store.stage_overrides()] == ["pdt"]


async def test_a_negative_limit_is_refused(store: StateStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.stage_audit(limit=-1)


@pytest.mark.parametrize(
    "to_stage", ["", "fast", "PDT", "canary", "canary:101", "canary:010", "pdt:5", "canary:-1"]
)
async def test_a_stage_no_replica_could_parse_is_refused_and_nothing_is_written(
    store: StateStore, to_stage: str
) -> None:
    with pytest.raises(ValueError, match="stage"):
        await store.set_stage(change(to_stage=to_stage))
    assert await store.stage_overrides() == []
    assert await store.stage_audit() == []


@pytest.mark.parametrize(
    ("broken", "survivor"),
    [("stage_audit", "stage_override"), ("stage_override", "stage_audit")],
    ids=["audit-fails", "override-fails"],
)
async def test_a_change_is_one_transaction(
    store: StateStore, database: Database, broken: str, survivor: str
) -> None:
    """A failure of either write leaves neither: no override without its audit row."""
    earlier = change(product="ffr", to_stage="shadow")
    await store.set_stage(earlier)
    database.execute(f"ALTER TABLE {broken} RENAME TO {broken}_away")
    try:
        with pytest.raises(Exception, match=broken):
            await store.set_stage(change(product="ffr", from_stage="shadow", to_stage="pdt"))
        rows = database.execute(f"SELECT COUNT(*) FROM {survivor}")  # noqa: S608
        assert rows == [(1,)]
    finally:
        database.execute(f"ALTER TABLE {broken}_away RENAME TO {broken}")
    # The store recovers once the database does (PostgreSQL: on a fresh connection).
    assert await store.stage_overrides() == [earlier.override]
    assert await store.stage_audit() == [earlier]
    later = change(product="ffr", from_stage="shadow", to_stage="pdt", at=AT + timedelta(minutes=1))
    await store.set_stage(later)
    assert await store.stage_audit() == [later, earlier]


async def test_overrides_survive_reopening(database: Database) -> None:
    first = database.state_store()
    await first.open()
    await first.set_stage(change(to_stage="canary:25"))
    await first.close()
    again = database.state_store()
    await again.open()
    try:
        assert [o.stage for o in await again.stage_overrides()] == ["canary:25"]
    finally:
        await again.close()


async def test_a_store_refuses_work_before_open_and_after_close(database: Database) -> None:
    fresh = database.state_store()
    with pytest.raises(RuntimeError, match="not open"):
        await fresh.stage_overrides()
    await fresh.open()
    await fresh.close()
    await fresh.close()  # idempotent
    with pytest.raises(RuntimeError):
        await fresh.set_stage(change())
