"""One database for the ledger and the state: migrated once, whoever opens it first."""

from __future__ import annotations

import asyncio

import pytest

from proxy.db.migrations import migrations
from proxy.db.sqlite import split_statements
from proxy.ledger.month import Month
from proxy.ledger.store import LedgerStore
from proxy.state.store import StateStore
from tests.db.support import Database
from tests.ledger.support import make_record
from tests.state.support import change, shadow

EVERY_MIGRATION = [
    (1, "0001_ledger.sql"),
    (2, "0002_state.sql"),
    (3, "0003_recorded_exchange.sql"),
    (4, "0004_autopilot.sql"),
    (5, "0005_config_generation.sql"),
]

# Per table, every column: a new column must be added here, deliberately, after
# checking that it holds no personal data.
SCHEMA = {
    "schema_version": ["version", "name", "applied_at"],
    "ledger": [
        "id",
        "at",
        "tenant",
        "product",
        "operation",
        "stage",
        "side",
        "pdt_transaction_id",
        "modules",
        "status",
        "latency_ms",
        "request_id",
        "fallback",
    ],
    "stage_override": ["tenant", "product", "stage", "at", "actor"],
    "stage_audit": ["id", "at", "actor", "tenant", "product", "from_stage", "to_stage"],
    # Live configuration reloads (proxy/live): actors, hashes, file and rule names;
    # ``detail`` is a refusal's file, rule and reason, never a value from a file.
    "config_reload": ["id", "at", "actor", "trigger", "outcome", "version", "detail"],
    "shadow_result": [
        "id",
        "at",
        "tenant",
        "product",
        "operation",
        "environment",
        "request_id",
        "legacy_status",
        "pdt_status",
        "legacy_ms",
        "pdt_ms",
        "matched",
        "compared",
        "comparison",
    ],
    # ``line`` is a corpus line the recorder already pseudonymised (proxy/recording/capture.py);
    # its own test (tests/replay/test_recorder.py) checks that no CPF, e-mail or phone is in it.
    "recorded_exchange": ["id", "at", "tenant", "product", "operation", "line"],
    # The autopilot (proxy/autopilot): plan and figures are JSON of stage labels and
    # gate figures; reason is text the evaluator writes from them.
    "autopilot_plan": [
        "tenant",
        "product",
        "plan",
        "status",
        "created_at",
        "updated_at",
        "actor",
        "baseline_p99_ms",
    ],
    "autopilot_decision": [
        "id",
        "at",
        "tenant",
        "product",
        "decision",
        "from_stage",
        "to_stage",
        "step_started",
        "reason",
        "figures",
        "actor",
    ],
    "autopilot_lease": ["lease", "holder", "expires_at"],
}
# Words of a column name that would mean personal data (or a secret) is stored.
PERSONAL = frozenset(
    {"cpf", "cnpj", "document", "email", "mail", "phone", "name", "birth", "address", "ip", "token", "body"}
)


async def _use_both(ledger: LedgerStore, state: StateStore) -> None:
    await ledger.append([make_record()])
    await state.set_stage(change())
    await state.save_shadow([shadow()])


@pytest.mark.parametrize("rounds", [1, 3])
async def test_ledger_and_state_opening_a_fresh_database_together_migrate_it_once(
    database: Database, rounds: int
) -> None:
    ledgers = [database.ledger_store() for _ in range(rounds)]
    states = [database.state_store() for _ in range(rounds)]
    every: list[LedgerStore | StateStore] = [*ledgers, *states]
    await asyncio.gather(*(store.open() for store in every))
    try:
        assert database.versions() == EVERY_MIGRATION
        await asyncio.gather(
            *(_use_both(ledger, state) for ledger, state in zip(ledgers, states, strict=True))
        )
        assert len(await ledgers[0].records(Month(2026, 2))) == rounds
        assert len(await states[0].stage_audit()) == rounds
    finally:
        await asyncio.gather(*(store.close() for store in every))


@pytest.mark.parametrize("first", ["ledger", "state"])
async def test_whichever_store_opens_first_migrates_for_both(database: Database, first: str) -> None:
    stores: list[LedgerStore | StateStore] = [database.ledger_store(), database.state_store()]
    one, other = stores if first == "ledger" else stores[::-1]
    await one.open()
    assert database.versions() == EVERY_MIGRATION
    await other.open()
    try:
        assert database.versions() == EVERY_MIGRATION
    finally:
        await one.close()
        await other.close()


async def test_a_ledger_of_the_previous_release_gains_the_state_tables(database: Database) -> None:
    """An existing database at version 1 (ledger only): its rows stay, 0002 is applied."""
    ledger_only = migrations(database.backend)[0]  # type: ignore[arg-type]
    statements = split_statements(ledger_only.sql) if database.path else [ledger_only.sql]
    # schema_version exactly as the previous release's stores created it.
    applied_at = "TEXT NOT NULL" if database.path else "TIMESTAMPTZ NOT NULL DEFAULT now()"
    database.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        f"applied_at {applied_at})"
    )
    for statement in statements:
        database.execute(statement)
    database.execute(
        "INSERT INTO schema_version (version, name, applied_at) "
        "VALUES (1, '0001_ledger.sql', '2026-11-01T00:00:00.000000Z')"
    )
    database.execute(
        "INSERT INTO ledger (at, tenant, product, operation, stage, side, modules, status, latency_ms, "
        "request_id) VALUES ('2026-02-10T12:00:00.000000Z', 'acme', 'datatrust-v1', 'op', 'pdt', 'pdt', "
        "'scores', 200, 1.5, 'old')"
    )
    state = database.state_store()
    await state.open()
    try:
        assert database.versions() == EVERY_MIGRATION
        await state.set_stage(change())
        assert database.execute("SELECT request_id FROM ledger") == [("old",)]
    finally:
        await state.close()


async def test_the_schema_holds_no_personal_data(database: Database) -> None:
    state = database.state_store()
    await state.open()
    await state.close()
    columns = database.columns()
    assert columns == SCHEMA
    suspicious = [
        f"{table}.{column}"
        for table, names in columns.items()
        for column in names
        # schema_version.name is a migration's file name.
        if table != "schema_version" and PERSONAL & set(column.split("_"))
    ]
    assert suspicious == []
