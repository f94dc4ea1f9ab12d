"""Export totals on a fixture month, on both stores; JSON and CSV; the CLI command."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.cli import main
from proxy.ledger.export import bill_for, bill_to_json, format_money, render
from proxy.ledger.month import Month
from proxy.ledger.pricing import parse_pricing
from proxy.ledger.record import LedgerRecord
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from tests.ledger.support import make_record
from tests.ledger.test_pricing import BASE

FEBRUARY = Month(2026, 2)
COMBO = ("scores", "ratings", "insights")


def fixture_month() -> list[LedgerRecord]:
    """A month of two tenants, with every outcome the rules distinguish, plus its edges."""
    day = datetime(2026, 2, 14, 10, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        *[{"modules": COMBO}] * 3,
        {"modules": ("scores", "insights")},
        *[{"operation": "datatrust.token.send", "status": 201, "modules": ("sms_token",)}] * 2,
        {"operation": "datatrust.token.validate", "modules": ()},
        {"operation": "datatrust.transaction.get", "modules": ()},
        {"status": 400, "modules": (), "pdt_transaction_id": None},
        {"status": 503, "modules": (), "pdt_transaction_id": None},
        {"side": "legacy", "stage": "pdt-fallback", "modules": ()},
        *[{"tenant": "beta", "modules": ("pack:datatrust",)}] * 2,
        {"tenant": "beta", "product": "ffr", "operation": "ffr.score", "modules": ("scores", "insights")},
        # Outside February by a microsecond on each side.
        {"at": datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC), "modules": COMBO},
        {"at": datetime(2026, 3, 1, tzinfo=UTC), "modules": COMBO},
    ]
    return [
        make_record(**{"at": day + timedelta(minutes=i), "request_id": f"r{i}", **row})
        for i, row in enumerate(rows)
    ]


PRICING = parse_pricing(BASE, source="test")

EXPECTED_JSON: dict[str, Any] = {
    "month": "2026-02",
    "currency": "BRL",
    "evidence": "sample",
    "tenant": None,
    "lines": [
        {
            "tenant": "acme",
            "product": "datatrust-v1",
            "billable_transactions": 3,
            "combo_price": "0.90",
            "combo_amount": "2.70",
            "module_transactions": 1,
            "modules": {
                "insights": {"count": 1, "price": "0.40", "amount": "0.40"},
                "scores": {"count": 1, "price": "0.35", "amount": "0.35"},
            },
            "included": {"sms_token": 2},
            "excluded": {"error": 2, "free-read": 2, "legacy-side": 1},
            "unpriced": {},
            "amount": "3.45",
        },
        {
            "tenant": "beta",
            "product": "datatrust-v1",
            "billable_transactions": 2,
            "combo_price": "0.90",
            "combo_amount": "1.80",
            "module_transactions": 0,
            "modules": {},
            "included": {},
            "excluded": {},
            "unpriced": {},
            "amount": "1.80",
        },
        {
            "tenant": "beta",
            "product": "ffr",
            "billable_transactions": 0,
            "combo_price": None,
            "combo_amount": "0.00",
            "module_transactions": 1,
            "modules": {"scores": {"count": 1, "price": "0.60", "amount": "0.60"}},
            "included": {},
            "excluded": {},
            "unpriced": {"insights": 1},
            "amount": "0.60",
        },
    ],
    "total": "5.85",
}

EXPECTED_BETA = {**EXPECTED_JSON, "tenant": "beta", "lines": EXPECTED_JSON["lines"][1:], "total": "2.40"}

EXPECTED_CSV = """\
month,tenant,product,item,name,count,unit_price,amount,currency
2026-02,acme,datatrust-v1,combo,datatrust-v1,3,0.90,2.70,BRL
2026-02,acme,datatrust-v1,module,insights,1,0.40,0.40,BRL
2026-02,acme,datatrust-v1,module,scores,1,0.35,0.35,BRL
2026-02,acme,datatrust-v1,included,sms_token,2,,,BRL
2026-02,acme,datatrust-v1,excluded,error,2,,,BRL
2026-02,acme,datatrust-v1,excluded,free-read,2,,,BRL
2026-02,acme,datatrust-v1,excluded,legacy-side,1,,,BRL
2026-02,acme,datatrust-v1,total,,,,3.45,BRL
2026-02,beta,datatrust-v1,combo,datatrust-v1,2,0.90,1.80,BRL
2026-02,beta,datatrust-v1,total,,,,1.80,BRL
2026-02,beta,ffr,module,scores,1,0.60,0.60,BRL
2026-02,beta,ffr,unpriced,insights,1,,,BRL
2026-02,beta,ffr,total,,,,0.60,BRL
"""


async def test_the_fixture_month_exports_these_totals(store: LedgerStore) -> None:
    await store.append(fixture_month())
    bill = await bill_for(store, PRICING, FEBRUARY)
    assert bill_to_json(bill) == EXPECTED_JSON
    assert render(bill, "csv").decode() == EXPECTED_CSV
    assert json.loads(render(bill, "json")) == EXPECTED_JSON


async def test_the_export_for_one_tenant_has_only_its_lines(store: LedgerStore) -> None:
    await store.append(fixture_month())
    assert bill_to_json(await bill_for(store, PRICING, FEBRUARY, tenant="beta")) == EXPECTED_BETA


@pytest.mark.parametrize(
    ("amount", "text"),
    [("0", "0.00"), ("2.7", "2.70"), ("0.1350", "0.135"), ("1234.5600", "1234.56"), ("10", "10.00")],
)
def test_money_is_exact_text(amount: str, text: str) -> None:
    from decimal import Decimal

    assert format_money(Decimal(amount)) == text


def _seed(data_dir: Path) -> None:
    async def seed() -> None:
        store = SqliteStore(data_dir / "ledger.sqlite3")
        await store.open()
        await store.append(fixture_month())
        await store.close()

    asyncio.run(seed())


@pytest.mark.parametrize(
    ("args", "out_name", "expected"),
    [
        (["--month", "2026-02"], "bill.csv", EXPECTED_CSV),
        (["--month", "2026-02", "--format", "csv"], "bill.txt", EXPECTED_CSV),
        (["--month", "2026-02"], "bill.json", EXPECTED_JSON),
        (["--month", "2026-02", "--tenant", "beta"], "beta.json", EXPECTED_BETA),
        (
            ["--month", "2026-04"],
            "april.json",
            {**EXPECTED_JSON, "month": "2026-04", "lines": [], "total": "0.00"},
        ),
    ],
    ids=["csv-by-extension", "csv-by-flag", "json", "one-tenant", "empty-month"],
)
def test_cli_ledger_export_writes_the_bill(
    tmp_path: Path, args: list[str], out_name: str, expected: str | dict[str, Any]
) -> None:
    _seed(tmp_path / "data")
    pricing = tmp_path / "pricing.yaml"
    pricing.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    config = tmp_path / "proxy.yaml"
    config.write_text(
        yaml.safe_dump({"data_dir": str(tmp_path / "data"), "ledger": {"pricing_file": str(pricing)}}),
        encoding="utf-8",
    )
    out = tmp_path / out_name
    assert main(["--config", str(config), "ledger", "export", *args, "--out", str(out)]) == 0
    if isinstance(expected, str):
        assert out.read_text(encoding="utf-8") == expected
        return
    assert json.loads(out.read_bytes()) == expected


def test_cli_ledger_export_prints_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(tmp_path / "data")
    config = tmp_path / "proxy.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data")}), encoding="utf-8")
    assert main(["--config", str(config), "ledger", "export", "--month", "2026-02", "--format", "csv"]) == 0
    printed = capsys.readouterr().out
    # The shipped (sample) prices: counts as in the fixture, amounts whatever they are.
    assert printed.startswith("month,tenant,product,item,name,count,unit_price,amount,currency\n")
    assert "2026-02,acme,datatrust-v1,combo,datatrust-v1,3," in printed


@pytest.mark.parametrize("month", ["2026-13", "26-02", "february", "2026-02-01"])
def test_cli_ledger_export_refuses_a_bad_month(month: str) -> None:
    with pytest.raises(SystemExit, match="--month: month must be YYYY-MM"):
        main(["ledger", "export", "--month", month])
