"""proxy.db.schema: which schema versions a release may serve on (pure)."""

from __future__ import annotations

import pytest

from proxy.db.migrations import Backend, migrations
from proxy.db.schema import SchemaError, check_version, latest_version

# (current, latest, migrating, refused with words ...)
CASES: list[tuple[int, int, bool, tuple[str, ...]]] = [
    (3, 3, False, ()),
    (3, 3, True, ()),
    (0, 3, True, ()),
    (2, 3, True, ()),
    (2, 3, False, ("version 2", "version 3", "pdt-proxy migrate")),
    (0, 3, False, ("version 0", "pdt-proxy migrate")),
    (4, 3, True, ("version 4", "version 3", "newer")),
    (4, 3, False, ("version 4", "version 3", "newer")),
]


@pytest.mark.parametrize(("current", "latest", "migrating", "words"), CASES)
def test_a_schema_is_served_on_only_at_the_release_version_or_while_migrating_up(
    current: int, latest: int, migrating: bool, words: tuple[str, ...]
) -> None:
    if not words:
        check_version(current, latest, migrating=migrating)
        return
    with pytest.raises(SchemaError) as refused:
        check_version(current, latest, migrating=migrating)
    assert all(word in str(refused.value) for word in words)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_latest_version_is_the_number_of_migrations_shipped(backend: Backend) -> None:
    assert latest_version(backend) == len(migrations(backend)) == migrations(backend)[-1].version
