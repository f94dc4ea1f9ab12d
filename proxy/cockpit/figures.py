"""Reads what the estate and the tenant page show: shadow results, ledger, audit, autopilot.

The only I/O of the cockpit besides the stage change. A source that cannot be read
degrades to "no figures" for that source (logged, never a 500): a ledger that is down
must not hide the stage controls an operator needs to roll a tenant back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from starlette.requests import Request

from proxy.ledger.ledger import Ledger
from proxy.ledger.month import Month
from proxy.ledger.pricing import compute_bill
from proxy.ledger.record import LedgerRecord
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime
from proxy.state.records import ShadowResult, StageChange

from .estate import TenantInputs

__all__ = ["AUTOPILOT_PATH", "Sources", "read_autopilot", "read_inputs"]

_log = get_logger(__name__)
AUTOPILOT_PATH = "/admin/tenants/{tenant}/autopilot"
_WINDOW = timedelta(days=30)


@dataclass
class Sources:
    """Which sources answered, so the page can say "ledger unavailable" instead of showing zeros."""

    ledger: bool = True
    shadow: bool = True
    audit: bool = True


def _months(now: datetime) -> list[Month]:
    first = Month.of(now - _WINDOW)
    last = Month.of(now)
    return [first] if first == last else [first, last]


async def _ledger(
    runtime: Runtime, tenant: str, now: datetime, sources: Sources
) -> tuple[list[LedgerRecord], int]:
    ledger = runtime.ledger
    if not isinstance(ledger, Ledger):
        sources.ledger = False
        return [], 0
    try:
        records: list[LedgerRecord] = []
        for month in _months(now):
            records.extend(await ledger.store.records(month, tenant=tenant))
        month = Month.of(now)
        bill = compute_bill(
            runtime.pricing, str(month), await ledger.usage(month, tenant=tenant), tenant=tenant
        )
    except Exception:
        _log.warning("cockpit: ledger not readable", tenant=tenant, exc_info=True)
        sources.ledger = False
        return [], 0
    billable = sum(line.billable_transactions + line.module_transactions for line in bill.lines)
    return records, billable


async def _shadow(runtime: Runtime, tenant: str, now: datetime, sources: Sources) -> Sequence[ShadowResult]:
    try:
        return list(await runtime.stage_control.store.shadow_results(tenant, since=now - _WINDOW, until=now))
    except Exception:
        _log.warning("cockpit: shadow results not readable", tenant=tenant, exc_info=True)
        sources.shadow = False
        return []


async def _audit(runtime: Runtime, tenant: str, sources: Sources) -> Sequence[StageChange]:
    try:
        return list(await runtime.stage_control.store.stage_audit(tenant=tenant))
    except Exception:
        _log.warning("cockpit: stage audit not readable", tenant=tenant, exc_info=True)
        sources.audit = False
        return []


async def read_autopilot(request: Request, tenant: str, token: str) -> Mapping[str, Any] | None:
    """The autopilot's own admin answer for ``tenant``, asked in process with the caller's token.

    Asking the endpoint (rather than importing the autopilot) keeps the cockpit working
    on a build without it: a 404 hides the autopilot column, a 200 shows it.
    """
    transport = httpx.ASGITransport(app=request.app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://cockpit.internal") as client:
            answer = await client.get(
                AUTOPILOT_PATH.format(tenant=tenant), headers={"Authorization": f"Bearer {token}"}
            )
    except Exception:
        _log.warning("cockpit: autopilot not readable", tenant=tenant, exc_info=True)
        return None
    if answer.status_code != 200:
        return None
    try:
        data = orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


async def read_inputs(
    runtime: Runtime,
    described: Mapping[str, Any],
    now: datetime,
    sources: Sources,
    autopilot: Mapping[str, Any] | None,
) -> TenantInputs:
    tenant = described["tenant"]
    records, billable = await _ledger(runtime, tenant, now, sources)
    return TenantInputs(
        described=described,
        shadow=await _shadow(runtime, tenant, now, sources),
        ledger=records,
        audit=await _audit(runtime, tenant, sources),
        billable_month=billable,
        autopilot=autopilot,
    )
