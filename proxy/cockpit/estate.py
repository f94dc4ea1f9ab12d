"""The estate: one row per tenant with the figures the migration team watches. Pure.

Every figure is computed here from records the caller read (shadow results, ledger
records, the stage audit, the autopilot's answer), so the rules for "needs attention"
are tested without a database. Rows needing attention come first by default: a
breached gate, agreement falling, or legacy traffic after a product's cut-over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from proxy.backtest.report import Backtest, build_backtest
from proxy.comparison.rules import CompareRules
from proxy.ledger.record import LedgerRecord
from proxy.pages.i18n import BRASILIA
from proxy.state.records import ShadowResult, StageChange

__all__ = [
    "SORT_KEYS",
    "STAGE_KINDS",
    "EstateRow",
    "TenantInputs",
    "build_row",
    "select_rows",
    "week_backtest",
]

STAGE_KINDS: Final = ("legacy", "shadow", "canary", "pdt-fallback", "pdt")
TREND_DAYS: Final = 30
# The backtest criteria that only say "not enough traffic yet" (count and time span).
_COVERAGE = frozenset({"samples", "hours", "distinct_days"})
# Agreement this much lower over 7 days than over 30 is "falling"; fewer samples than
# this over 7 days is noise, not a trend.
_FALLING_BY: Final = 0.05
_FALLING_MIN_SAMPLES: Final = 10
_CUT_OVER: Final = frozenset({"canary", "pdt-fallback", "pdt"})


@dataclass(frozen=True)
class TenantInputs:
    """What the I/O side read for one tenant (``figures.read_inputs``)."""

    described: Mapping[str, Any]  # one entry of StageBook.describe()
    shadow: Sequence[ShadowResult]  # the last 30 days
    ledger: Sequence[LedgerRecord]  # at least the last 30 days and this month
    audit: Sequence[StageChange]
    billable_month: int
    autopilot: Mapping[str, Any] | None  # None: no autopilot endpoint (404) or none running


@dataclass(frozen=True)
class EstateRow:
    tenant: str
    name: str
    products: dict[str, str]  # product -> stage label
    autopilot_step: str | None
    autopilot_gate: str | None
    ready: bool | None  # None: no sample in the last 7 days
    failing: list[str]
    agreement_7d: float | None
    agreement_30d: float | None
    samples_7d: int
    samples_30d: int
    trend: list[float | None]
    pdt_error_rate: float | None
    fallback_rate: float | None
    legacy_24h: int
    legacy_30d: int
    billable_month: int
    attention: list[str] = field(default_factory=list)

    @property
    def stage_kinds(self) -> set[str]:
        return {label.split(":")[0] for label in self.products.values()}


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _daily_agreement(results: Iterable[ShadowResult], now: datetime) -> list[float | None]:
    """Match rate per Brasília calendar day, oldest first, the last day being today."""
    today = now.astimezone(BRASILIA).date()
    matched: dict[int, int] = defaultdict(int)
    seen: dict[int, int] = defaultdict(int)
    for result in results:
        back = (today - result.at.astimezone(BRASILIA).date()).days
        if 0 <= back < TREND_DAYS:
            seen[back] += 1
            matched[back] += result.comparison.matched
    return [_rate(matched[back], seen[back]) for back in range(TREND_DAYS - 1, -1, -1)]


def _pdt_rates(
    ledger: Sequence[LedgerRecord], shadow: Sequence[ShadowResult], since: datetime
) -> tuple[float | None, float | None]:
    """PDT failure rate over every PDT attempt, and the share of pdt-fallback answers legacy gave."""
    tried = failed = fallback_all = fallback_legacy = 0
    for record in ledger:
        if record.at < since:
            continue
        if record.stage == "pdt-fallback":
            fallback_all += 1
            fallback_legacy += record.side == "legacy"
        if record.side == "pdt" or record.stage == "pdt-fallback":
            tried += 1
            # A fallback is a PDT failure the client never saw.
            failed += (record.side == "pdt" and record.status >= 500) or (
                record.stage == "pdt-fallback" and record.side == "legacy"
            )
    for result in shadow:
        if result.at >= since:
            tried += 1
            failed += result.pdt_status >= 500 and result.legacy_status < 500
    return _rate(failed, tried), _rate(fallback_legacy, fallback_all)


def _cut_over_at(audit: Sequence[StageChange], product: str) -> datetime | None:
    """When ``product`` last moved to ``pdt`` (a tenant-wide change counts for each product)."""
    moments = [
        change.at for change in audit if change.to_stage == "pdt" and change.product in (None, product)
    ]
    return max(moments) if moments else None


def _legacy_after_cut_over(row_products: Mapping[str, str], inputs: TenantInputs) -> bool:
    for product, label in row_products.items():
        if label != "pdt":
            continue
        since = _cut_over_at(inputs.audit, product)
        if since is not None and any(
            record.product == product and record.side == "legacy" and record.at > since
            for record in inputs.ledger
        ):
            return True
    return False


def _autopilot(autopilot: Mapping[str, Any] | None) -> tuple[str | None, str | None, bool]:
    """Step, next gate and "a gate is breached" from the autopilot's answer, read defensively."""
    if not autopilot:
        return None, None, False
    step = autopilot.get("current_step", autopilot.get("step"))
    gate = autopilot.get("next_gate")
    gates = autopilot.get("gates")
    # A gate not met yet is the plan; only a gate the autopilot reports breached is trouble.
    breached = bool(autopilot.get("breached")) or (
        isinstance(gates, list) and any(isinstance(item, Mapping) and item.get("breached") for item in gates)
    )
    name = (gate.get("name") if isinstance(gate, Mapping) else gate) if gate is not None else None
    return (None if step is None else str(step)), (None if name is None else str(name)), breached


def week_backtest(inputs: TenantInputs, rules: CompareRules, now: datetime) -> Backtest:
    """The backtest of the tenant's last 7 days: the row's verdict and the tenant page's
    charts share it. Pure and CPU-bound over every sample: routes run it off the loop."""
    week_ago = now - timedelta(days=7)
    week = [result for result in inputs.shadow if result.at >= week_ago]
    return build_backtest(inputs.described["tenant"], week, rules, window_from=week_ago, window_to=now)


def build_row(inputs: TenantInputs, backtest: Backtest, now: datetime) -> EstateRow:
    """One tenant's row; ``backtest`` is ``week_backtest`` of the same inputs and moment."""
    described = inputs.described
    week_ago, day_ago, month_ago = now - timedelta(days=7), now - timedelta(days=1), now - timedelta(days=30)
    month = [result for result in inputs.shadow if result.at >= month_ago]
    agreement_7d = backtest.match_rate
    agreement_30d = _rate(sum(result.comparison.matched for result in month), len(month))
    pdt_errors, fallbacks = _pdt_rates(inputs.ledger, inputs.shadow, week_ago)
    legacy = [record for record in inputs.ledger if record.side == "legacy"]
    products = dict(described["products"])
    step, gate, breached = _autopilot(inputs.autopilot)
    ready = backtest.ready if backtest.samples else None
    failing = [check.name for check in backtest.checks if not check.passed] if backtest.samples else []
    attention = []
    kinds = {label.split(":")[0] for label in products.values()}
    # Too few samples, or too little time covered, is "wait", not "breached": only a
    # failing figure on a tenant already (partly) answered by PDT is trouble.
    if breached or (kinds & _CUT_OVER and any(name not in _COVERAGE for name in failing)):
        attention.append("gate_breached")
    if (
        agreement_7d is not None
        and agreement_30d is not None
        and backtest.samples >= _FALLING_MIN_SAMPLES
        and agreement_7d < agreement_30d - _FALLING_BY
    ):
        attention.append("agreement_falling")
    if _legacy_after_cut_over(products, inputs):
        attention.append("legacy_after_cut_over")
    return EstateRow(
        tenant=described["tenant"],
        name=described["name"],
        products=products,
        autopilot_step=step,
        autopilot_gate=gate,
        ready=ready,
        failing=failing,
        agreement_7d=agreement_7d,
        agreement_30d=agreement_30d,
        samples_7d=backtest.samples,
        samples_30d=len(month),
        trend=_daily_agreement(inputs.shadow, now),
        pdt_error_rate=pdt_errors,
        fallback_rate=fallbacks,
        legacy_24h=sum(record.at >= day_ago for record in legacy),
        legacy_30d=sum(record.at >= month_ago for record in legacy),
        billable_month=inputs.billable_month,
        attention=attention,
    )


def _sort_value(row: EstateRow, key: str) -> tuple[int, Any]:
    # Missing figures sort last whichever the direction: (1, ...) after every (0, ...).
    value = {
        "name": row.name.lower(),
        "stage": ",".join(sorted(row.products.values())),
        "ready": None if row.ready is None else int(row.ready),
        "agreement_7d": row.agreement_7d,
        "agreement_30d": row.agreement_30d,
        "pdt_error_rate": row.pdt_error_rate,
        "fallback_rate": row.fallback_rate,
        "legacy_24h": row.legacy_24h,
        "legacy_30d": row.legacy_30d,
        "billable_month": row.billable_month,
        "autopilot": row.autopilot_step,
    }[key]
    return (1, 0) if value is None else (0, value)


SORT_KEYS: Final = (
    "name",
    "stage",
    "autopilot",
    "ready",
    "agreement_7d",
    "agreement_30d",
    "pdt_error_rate",
    "fallback_rate",
    "legacy_24h",
    "legacy_30d",
    "billable_month",
)


def select_rows(
    rows: Sequence[EstateRow],
    *,
    stage: str | None = None,
    product: str | None = None,
    sort: str | None = None,
    descending: bool = False,
) -> list[EstateRow]:
    """Filter by stage kind and product, then sort; without a sort key, attention first, then name."""
    chosen = [
        row
        for row in rows
        if (not stage or stage in row.stage_kinds) and (not product or product in row.products)
    ]
    if sort not in SORT_KEYS:
        return sorted(chosen, key=lambda row: (not row.attention, row.name.lower()))
    present = [row for row in chosen if _sort_value(row, sort)[0] == 0]
    absent = [row for row in chosen if _sort_value(row, sort)[0] == 1]
    present.sort(key=lambda row: _sort_value(row, sort)[1], reverse=descending)
    return present + sorted(absent, key=lambda row: row.name.lower())
