"""What the ledger holds: one ``LedgerRecord`` per legacy transaction, and the
``UsageRow`` a store aggregates them into for billing.

A record carries identifiers and outcomes only, never request data: no CPF, e-mail,
phone, name, token or legacy body. The tenant id is the proxy's own slug, the
request id is a random (or caller-chosen, sanitised) token, and the PDT transaction
id is PDT's GUID. ``test_record`` pins the field list so a personal field cannot be
added without a test failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

__all__ = ["MODULE_SEPARATOR", "LedgerRecord", "UsageRow", "decode_modules", "encode_modules", "utc_now"]

# Module names are mapping identifiers ("scores", "pack:datatrust", "sms_token"),
# never free text, so a comma cannot occur inside one; both stores keep the tuple
# as one text column, which groups and compares the same way on SQLite and PostgreSQL.
MODULE_SEPARATOR: Final = ","


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    at: datetime
    tenant: str
    product: str
    operation: str
    # Plain strings: later stages (legacy, shadow, canary, pdt-fallback) add values.
    stage: str
    # Which side's answer the client received: "pdt" or "legacy".
    side: str
    pdt_transaction_id: str | None
    modules: tuple[str, ...]
    # The legacy status code the client received.
    status: int
    latency_ms: float
    request_id: str
    # Why the legacy side answered a pdt-fallback request ("timeout", "unavailable",
    # ...; proxy.stages.dispatch.fallback_cause), None otherwise: a cause name, never
    # request data. The autopilot's fallback rate by cause reads it from every replica.
    fallback: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("LedgerRecord.at must be timezone-aware")
        for module in self.modules:
            if not module or MODULE_SEPARATOR in module:
                raise ValueError(f"invalid module name {module!r}")


@dataclass(frozen=True, slots=True, order=True)
class UsageRow:
    """How many records of a month share these billing-relevant values."""

    tenant: str
    product: str
    operation: str
    stage: str
    side: str
    status: int
    modules: tuple[str, ...]
    count: int


def encode_modules(modules: tuple[str, ...]) -> str:
    return MODULE_SEPARATOR.join(modules)


def decode_modules(text: str) -> tuple[str, ...]:
    return tuple(text.split(MODULE_SEPARATOR)) if text else ()


def utc_now() -> datetime:
    """The time stamp of a record: UTC, so every replica files it in the same month."""
    return datetime.now(UTC)
