"""The bill rendered for people and spreadsheets: JSON or CSV, deterministic.

Money is written as exact decimal strings (never floats): two decimal places when
the amount has no finer part, else all its places (unit prices go to four). The
same month, tenant, pricing and ledger always give the same bytes: lines sorted by
tenant and product, keys in a fixed order, modules and reasons sorted.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any, Final, Literal

import orjson

from proxy.ledger.month import Month
from proxy.ledger.pricing import Bill, BillLine, Pricing, compute_bill
from proxy.ledger.store import LedgerStore

__all__ = ["CSV_COLUMNS", "Format", "bill_for", "bill_to_json", "format_money", "render", "render_csv"]

Format = Literal["json", "csv"]
_CENTS: Final = Decimal("0.01")
CSV_COLUMNS: Final = (
    "month",
    "tenant",
    "product",
    "item",
    "name",
    "count",
    "unit_price",
    "amount",
    "currency",
)


def format_money(amount: Decimal) -> str:
    cents = amount.quantize(_CENTS)
    return f"{cents:f}" if cents == amount else f"{amount.normalize():f}"


async def bill_for(store: LedgerStore, pricing: Pricing, month: Month, *, tenant: str | None = None) -> Bill:
    return compute_bill(pricing, str(month), await store.usage(month, tenant=tenant), tenant=tenant)


def _line_to_json(line: BillLine) -> dict[str, Any]:
    return {
        "tenant": line.tenant,
        "product": line.product,
        "billable_transactions": line.billable_transactions,
        "combo_price": format_money(line.combo_price) if line.combo_price is not None else None,
        "combo_amount": format_money(line.combo_amount),
        "module_transactions": line.module_transactions,
        "modules": {
            name: {
                "count": charge.count,
                "price": format_money(charge.price),
                "amount": format_money(charge.amount),
            }
            for name, charge in line.modules.items()
        },
        "included": dict(line.included),
        "excluded": dict(line.excluded),
        "unpriced": dict(line.unpriced),
        "amount": format_money(line.amount),
    }


def bill_to_json(bill: Bill) -> dict[str, Any]:
    return {
        "month": bill.month,
        "currency": bill.currency,
        "evidence": bill.evidence,
        "tenant": bill.tenant,
        "lines": [_line_to_json(line) for line in bill.lines],
        "total": format_money(bill.total),
    }


def render_csv(bill: Bill) -> str:
    """One row per priced, counted or excluded item, then a total row per line.

    ``item`` is combo | module | included | excluded | unpriced | total, so a
    spreadsheet pivots on it without parsing nested cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def row(line: BillLine, item: str, name: str, count: int | str, price: str, amount: str) -> None:
        writer.writerow(
            (bill.month, line.tenant, line.product, item, name, count, price, amount, bill.currency)
        )

    for line in bill.lines:
        if line.combo_price is not None:
            row(
                line,
                "combo",
                line.product,
                line.billable_transactions,
                format_money(line.combo_price),
                format_money(line.combo_amount),
            )
        for name, charge in line.modules.items():
            row(line, "module", name, charge.count, format_money(charge.price), format_money(charge.amount))
        for name, count in line.included.items():
            row(line, "included", name, count, "", "")
        for reason, count in line.excluded.items():
            row(line, "excluded", reason, count, "", "")
        for name, count in line.unpriced.items():
            row(line, "unpriced", name, count, "", "")
        row(line, "total", "", "", "", format_money(line.amount))
    return out.getvalue()


def render(bill: Bill, output_format: Format) -> bytes:
    if output_format == "csv":
        return render_csv(bill).encode("utf-8")
    return orjson.dumps(bill_to_json(bill), option=orjson.OPT_INDENT_2) + b"\n"
