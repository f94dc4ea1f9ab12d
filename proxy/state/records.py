"""What the state store holds: stage changes (audit rows), the overrides they leave, shadow results.

Stage labels are the tenant file's spelling (``pdt``, ``canary:10``; see
``proxy.migration_stage.Stage.label``). ``product`` None is the tenant's default
stage, for every product without an override of its own. ``actor`` is the admin
identity the admin API names (``admin-token``, or a name from a header): never a
secret, and the store takes it as given. A ``ShadowResult`` is one backtest sample the
shadow stage (``proxy.stages.shadow``) produced; it lives here, with the other records the
store keeps, so that the store and the backtest read it without depending on the stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from proxy.comparison.engine import Comparison

__all__ = ["ConfigReload", "ShadowResult", "StageChange", "StageOverride", "as_utc"]


def as_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; ValueError when it is naive."""
    # A naive time has no defined instant, and the two backends would store it
    # differently (SQLite as local text, PostgreSQL in the session's zone).
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} needs a timezone-aware time")
    return moment.astimezone(UTC)


def _product(product: str | None) -> str | None:
    # '' is how the database spells "no product" (proxy/db/migrations/*/0002_state.sql):
    # refused here so that it can never be confused with None.
    if product == "":
        raise ValueError("product is a name or None (the tenant's default), not ''")
    return product


@dataclass(frozen=True, slots=True)
class StageChange:
    """One switch of a tenant's (or a tenant's product's) stage, as audited."""

    at: datetime
    actor: str
    tenant: str
    product: str | None
    from_stage: str
    to_stage: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "a stage change"))
        _product(self.product)

    @property
    def override(self) -> StageOverride:
        """The override this change leaves in force."""
        return StageOverride(self.tenant, self.product, self.to_stage, self.at, self.actor)


@dataclass(frozen=True, slots=True)
class StageOverride:
    """The stage in force for ``(tenant, product)``, over the tenant file's, since ``at``."""

    tenant: str
    product: str | None
    stage: str
    at: datetime
    actor: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "a stage override"))
        _product(self.product)


@dataclass(frozen=True)
class ShadowResult:
    """One backtest sample: both sides' status and latency, and how their answers compared."""

    at: datetime
    tenant: str
    product: str
    operation: str
    environment: str
    request_id: str
    legacy_status: int
    pdt_status: int
    legacy_ms: float
    pdt_ms: float
    comparison: Comparison


@dataclass(frozen=True, slots=True)
class ConfigReload:
    """One reload of the configuration set, as audited and as replicas follow it.

    ``generation`` is the row's number in the shared database (0 before it is
    stored): every replica reloads its own files when the highest ``ok``
    generation passes the one it last followed. ``detail`` is the refusal in lint's
    words (file, rule, reason), empty on success: file names and rule names only,
    never a value from a file.
    """

    at: datetime
    actor: str
    trigger: str
    outcome: str
    version: str
    detail: str = ""
    generation: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "a configuration reload"))
        if self.outcome not in ("ok", "refused"):
            raise ValueError(f"reload outcome {self.outcome!r} is not ok or refused")
