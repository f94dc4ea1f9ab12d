"""Python values <-> column values, the same for both backends (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson

from proxy.comparison.codec import comparison_from_json, comparison_to_json
from proxy.migration_stage import Stage
from proxy.state.corpus import CorpusEntry, entry_to_line
from proxy.state.records import ShadowResult, StageChange, as_utc

__all__ = [
    "NO_PRODUCT",
    "RECORDED_WRITE",
    "SHADOW_READ",
    "SHADOW_WRITE",
    "check_change",
    "check_limit",
    "product_column",
    "product_value",
    "recorded_row",
    "shadow_from_row",
    "shadow_row",
]

# The ``product`` column's value for "the tenant's default stage": the key
# (tenant, product) must be unique on both backends, and NULLs never collide in a
# unique key, so None is stored as '' (which no product is called; see records.py).
NO_PRODUCT: Final = ""

# matched and compared are in the comparison too; as columns, reports can count
# them without decoding every comparison.
SHADOW_WRITE: Final = (
    "at, tenant, product, operation, environment, request_id, legacy_status, pdt_status, legacy_ms, pdt_ms, "
    "matched, compared, comparison"
)
# The comparison's expression differs per backend (PostgreSQL reads its JSON as text).
SHADOW_READ: Final = (
    "at, tenant, product, operation, environment, request_id, "
    "legacy_status, pdt_status, legacy_ms, pdt_ms, {}"
)


RECORDED_WRITE: Final = "at, tenant, product, operation, line"


def recorded_row(entry: CorpusEntry) -> tuple[Any, ...]:
    """Values for ``RECORDED_WRITE``; ``at`` in UTC to the millisecond, as the line's own
    ``time`` reads, so a window filters the column exactly as it would the lines."""
    moment = as_utc(entry.time, "a recorded exchange")
    at = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    line = entry_to_line(entry).decode().rstrip("\n")
    return (at, entry.tenant, entry.product, entry.operation, line)


def product_column(product: str | None) -> str:
    return NO_PRODUCT if product is None else product


def product_value(column: str) -> str | None:
    return None if column == NO_PRODUCT else column


def check_change(change: StageChange) -> None:
    """Refuse an override nobody could apply: every replica parses it at startup."""
    try:
        label = Stage.parse(change.to_stage).label
    except ValueError as error:
        raise ValueError(f"not a stage: {change.to_stage!r} ({error})") from None
    if label != change.to_stage:
        raise ValueError(f"write the stage as {label!r}, not {change.to_stage!r}")


def check_limit(limit: int) -> int:
    # SQLite reads a negative LIMIT as "no limit", PostgreSQL refuses it: neither is meant.
    if limit < 0:
        raise ValueError(f"limit must be zero or more, not {limit}")
    return limit


def shadow_row(result: ShadowResult) -> tuple[Any, ...]:
    """Values for ``SHADOW_WRITE``; ``at`` in UTC (each backend encodes it)."""
    comparison = result.comparison
    return (
        as_utc(result.at, "a shadow result"),
        result.tenant,
        result.product,
        result.operation,
        result.environment,
        result.request_id,
        result.legacy_status,
        result.pdt_status,
        result.legacy_ms,
        result.pdt_ms,
        comparison.matched,
        comparison.compared,
        orjson.dumps(comparison_to_json(comparison)).decode(),
    )


def shadow_from_row(row: Sequence[Any]) -> ShadowResult:
    """From the ``SHADOW_READ`` columns, ``at`` already a datetime (each backend decodes it)."""
    (
        at,
        tenant,
        product,
        operation,
        environment,
        request_id,
        legacy_status,
        pdt_status,
        legacy_ms,
        pdt_ms,
        doc,
    ) = row
    return ShadowResult(
        at,
        tenant,
        product,
        operation,
        environment,
        request_id,
        int(legacy_status),
        int(pdt_status),
        float(legacy_ms),
        float(pdt_ms),
        comparison_from_json(orjson.loads(doc)),
    )
