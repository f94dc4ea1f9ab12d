"""Stage changes and shadow results for the state tests; comparisons are real ones,
made by the engine with the shipped compare rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.comparison.engine import compare_answers
from proxy.comparison.rules import CompareRules, load_compare_rules
from proxy.config import project_root
from proxy.mapping.catalog import load_catalog
from proxy.state.records import ShadowResult, StageChange

RULES: CompareRules = load_compare_rules(load_catalog(project_root() / "mappings"))
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CREATE = "datatrust.transaction.create"


def change(**overrides: Any) -> StageChange:
    fields: dict[str, Any] = {
        "at": AT,
        "actor": "admin-token",
        "tenant": "acme",
        "product": None,
        "from_stage": "legacy",
        "to_stage": "shadow",
    }
    fields.update(overrides)
    return StageChange(**fields)


def dt_answer(score: float, *, rating: str = "High", codes: tuple[str, ...] = ("DT1001", "DT2100")) -> Any:
    """A Data Trust v1 transaction answer, as both sides would send it."""
    return {
        "transactionId": "x",
        "identifierId": None,
        "createdAt": "2026-11-20T12:00:00.000Z",
        "score": score,
        "ratings": [{"relatedTo": "CPF_EMAIL", "value": rating}],
        "insights": [{"code": code, "description": "d", "type": "Alert"} for code in codes],
    }


def shadow(
    *,
    minutes: float = 0,
    tenant: str = "acme",
    product: str = "datatrust-v1",
    request_id: str = "req-1",
    legacy: Any = None,
    pdt: Any = None,
    statuses: tuple[int, int] = (200, 200),
    latencies: tuple[float, float] = (120.5, 48.25),
) -> ShadowResult:
    """A sample ``minutes`` after ``AT`` whose comparison the engine really made."""
    legacy = dt_answer(40.0) if legacy is None else legacy
    pdt = dt_answer(40.0) if pdt is None else pdt
    comparison = compare_answers(RULES.for_operation(CREATE), statuses[0], legacy, statuses[1], pdt)
    return ShadowResult(
        AT + timedelta(minutes=minutes),
        tenant,
        product,
        CREATE,
        "prd",
        request_id,
        statuses[0],
        statuses[1],
        latencies[0],
        latencies[1],
        comparison,
    )
