"""``pdt-proxy migration status``: the estate read from the database, printed as text."""

from __future__ import annotations

from proxy.autopilot.estate import Estate, estate
from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.factory import build_autopilot_store
from proxy.autopilot_plan import parse_defaults
from proxy.comparison.rules import load_compare_rules
from proxy.config import Settings
from proxy.db.factory import database_pool
from proxy.mapping.catalog import load_catalog
from proxy.observability.metrics import Metrics
from proxy.stages.book import StageBook
from proxy.stages.control import StageControl
from proxy.state.factory import build_state_store
from proxy.tenants import demo_tenants_file, load_tenants

__all__ = ["read_estate", "render_status"]


async def read_estate(settings: Settings) -> Estate:
    """The estate as the serving fleet sees it (stages, plans, ledger), read once."""
    catalog = load_catalog(settings.mappings_dir)
    tenants = load_tenants(
        settings.tenants_file or demo_tenants_file(),
        known_products=frozenset(catalog.products),
        simulator_only=settings.pdt.all_simulator,
    )
    rules = load_compare_rules(catalog)
    pool = database_pool(settings)
    state = build_state_store(settings, pool=pool)
    store = build_autopilot_store(settings, pool=pool)
    if pool is not None:
        await pool.open()
    try:
        await state.open()
        await store.open()
        control = StageControl(StageBook(tenants), state)
        autopilot = Autopilot(store, state, control, rules, parse_defaults(rules.autopilot), Metrics())
        return await estate(autopilot, tenants)
    finally:
        await store.close()
        await state.close()
        if pool is not None:
            await pool.close()


def render_status(view: Estate) -> str:
    """The estate as lines a person reads in a terminal. Pure."""
    lines = [f"migration status at {view.at:%Y-%m-%d %H:%M} UTC"]
    lines.append(
        "tenants per stage: " + ", ".join(f"{stage} {count}" for stage, count in view.per_stage.items())
    )
    lines.append("")
    lines.append(f"{'tenant':<24} {'stages':<34} {'plan':<8} next gate / blocked")
    for line in view.tenants:
        stages = ", ".join(f"{product}={label}" for product, label in line.stages.items())
        note = f"BLOCKED: {line.blocked}" if line.blocked else (line.next_gate or "-")
        lines.append(f"{line.tenant:<24} {stages:<34} {line.plan:<8} {note}")
    blocked = [line for line in view.tenants if line.blocked]
    lines.append("")
    lines.append(
        f"blocked: {len(blocked)}" + "".join(f"\n  {line.tenant}: {line.blocked}" for line in blocked)
    )
    lines.append(
        f"legacy can be switched off (pdt for {view.period_days} days, no legacy answer): "
        + (", ".join(view.switch_off) or "none")
    )
    lines.append(f"still reaching the legacy backend through the proxy (last {view.period_days} days):")
    lines.extend(
        f"  {item['tenant']}: {item['answers']} answers, last {item['last_at']}"
        for item in view.legacy_traffic
    )
    if not view.legacy_traffic:
        lines.append("  none")
    return "\n".join(lines)
