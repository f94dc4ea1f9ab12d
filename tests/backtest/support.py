"""Shadow results built from real comparisons of hand-made answer pairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.comparison.engine import compare_answers
from proxy.comparison.rules import CompareRules, load_compare_rules
from proxy.config import project_root
from proxy.mapping.catalog import load_catalog
from proxy.state.records import ShadowResult

RULES: CompareRules = load_compare_rules(load_catalog(project_root() / "mappings"))
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CREATE = "datatrust.transaction.create"


def dt_answer(
    score: float, *, rating: str = "High", codes: tuple[str, ...] = ("DT1001", "DT2100")
) -> dict[str, Any]:
    return {
        "transactionId": "x",
        "identifierId": None,
        "createdAt": "2026-11-20T12:00:00.000Z",
        "score": score,
        "ratings": [{"relatedTo": "CPF_EMAIL", "value": rating}],
        "insights": [{"code": code, "description": "d", "type": "Alert"} for code in codes],
    }


def result(
    legacy: dict[str, Any] | None = None,
    pdt: dict[str, Any] | None = None,
    *,
    legacy_status: int = 200,
    pdt_status: int = 200,
    legacy_ms: float = 100.0,
    pdt_ms: float = 50.0,
    tenant: str = "acme",
    at: datetime = AT,
) -> ShadowResult:
    legacy = legacy if legacy is not None else dt_answer(40.0)
    pdt = pdt if pdt is not None else dt_answer(40.0)
    comparison = compare_answers(RULES.for_operation(CREATE), legacy_status, legacy, pdt_status, pdt)
    return ShadowResult(
        at,
        tenant,
        "datatrust-v1",
        CREATE,
        "prd",
        "req",
        legacy_status,
        pdt_status,
        legacy_ms,
        pdt_ms,
        comparison,
    )


def spread(count: int, *, hours: float = 72.0) -> list[datetime]:
    """``count`` sample times from AT to ``hours`` later, evenly spaced."""
    step = hours / max(1, count - 1)
    return [AT + timedelta(hours=step * index) for index in range(count)]
