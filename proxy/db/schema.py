"""Which schema version a process may run on: the rules, pure, for both backends.

A proxy knows the migrations it ships (``latest``). It refuses a database whose
schema is newer than that in every case: an older release rolled back beside a
newer one would write rows the newer schema reads differently, silently. When
it may not migrate (``database.auto_migrate: false``, a fleet that migrates with
``pdt-proxy migrate``), it also refuses a schema older than it needs, naming the
command that brings it up to date, instead of failing on a missing table later.
"""

from __future__ import annotations

from proxy.db.migrations import Backend, migrations
from proxy.errors import ConfigError

__all__ = ["SchemaError", "check_version", "latest_version"]


class SchemaError(ConfigError):
    """The database's schema is not one this process can serve on (or migrate)."""


def latest_version(backend: Backend) -> int:
    return len(migrations(backend))


def check_version(current: int, latest: int, *, migrating: bool) -> None:
    """Raise ``SchemaError`` unless a process knowing ``latest`` may go on at ``current``
    (``migrating``: it is about to apply the pending migrations itself)."""
    if current > latest:
        raise SchemaError(
            f"the database schema is at version {current}, newer than this release knows "
            f"(version {latest}): run a release that knows version {current}"
        )
    if current < latest and not migrating:
        raise SchemaError(
            f"the database schema is at version {current}, this release needs version {latest}: "
            "run `pdt-proxy migrate` first (database.auto_migrate is false)"
        )
