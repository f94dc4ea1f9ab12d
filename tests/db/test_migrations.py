"""One migration sequence for the whole database, the same on both backends."""

from __future__ import annotations

import pytest

from proxy.db.migrations import Backend, migrations
from proxy.db.sqlite import split_statements


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_sequence_is_numbered_without_gaps_and_ships_every_file(kind: Backend) -> None:
    found = migrations(kind)
    assert [(m.version, m.name) for m in found] == [
        (1, "0001_ledger.sql"),
        (2, "0002_state.sql"),
        (3, "0003_recorded_exchange.sql"),
        (4, "0004_autopilot.sql"),
        (5, "0005_config_generation.sql"),
    ]
    assert all(m.sql.strip() for m in found)


def test_both_backends_have_the_same_steps() -> None:
    assert [m.name for m in migrations("sqlite")] == [m.name for m in migrations("postgres")]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("CREATE TABLE a (x INT);", ["CREATE TABLE a (x INT);"]),
        (
            "-- a comment\nCREATE TABLE a (\n  x INT -- why\n);\nCREATE INDEX i ON a (x);\n-- trailing\n",
            ["-- a comment\nCREATE TABLE a (\n  x INT -- why\n);", "CREATE INDEX i ON a (x);"],
        ),
        ("INSERT INTO a VALUES ('x;y');", ["INSERT INTO a VALUES ('x;y');"]),
        ("", []),
    ],
    ids=["one", "comments", "semicolon-in-string", "empty"],
)
def test_a_migration_splits_into_whole_statements(script: str, expected: list[str]) -> None:
    assert split_statements(script) == expected


def test_an_unfinished_statement_is_refused() -> None:
    with pytest.raises(RuntimeError, match="incomplete"):
        split_statements("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT)\n")
