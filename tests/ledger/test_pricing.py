"""Pricing data: the loader refuses broken files; the bill follows the declared rules."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.config import project_root
from proxy.errors import MappingError
from proxy.ledger.pricing import Pricing, compute_bill, load_pricing, parse_pricing
from proxy.ledger.record import UsageRow
from proxy.pdt_vocabulary import PdtVocabulary, parse_vocabulary

SHIPPED = project_root() / "mappings" / "billing" / "pricing.yaml"

BASE: dict[str, Any] = {
    "evidence": "sample",
    "currency": "BRL",
    "products": {
        "datatrust-v1": {
            "combo": {
                "price": "0.90",
                "modules": ["scores", "ratings", "insights"],
                "packs": ["datatrust"],
                "includes": ["sms_token", "email_token"],
            },
            "modules": {"scores": "0.35", "ratings": "0.25", "insights": "0.40", "sms_token": "0.12"},
        },
        "ffr": {"modules": {"scores": "0.60"}},
    },
    "exclusions": [
        {"reason": "error", "status_at_least": 400},
        {"reason": "legacy-side", "sides": ["legacy"]},
        {"reason": "free-read", "operations": ["datatrust.transaction.get", "datatrust.token.validate"]},
        {"reason": "no-pdt-module", "no_modules": True},
    ],
}


def _pricing(**changes: Any) -> Pricing:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    return parse_pricing(raw, source="pricing.yaml")


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return raw


def test_the_shipped_pricing_file_loads_and_is_marked_sample() -> None:
    pricing = load_pricing(SHIPPED)
    assert pricing.evidence == "sample"
    assert pricing.currency == "BRL"
    assert {"datatrust-v1", "ffr", "mobile-trust"} <= set(pricing.products)
    assert "SAMPLE DATA" in SHIPPED.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(
            {**BASE, "discount": "10%"}, "discount: Extra inputs are not permitted", id="unknown-key"
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "modules", "scores"), "-0.10"),
            "must be zero or positive",
            id="negative-price",
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "modules", "scores"), 0.35),
            "quoted strings",
            id="float-price",
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "modules", "scores"), "0.12345"),
            "more than 4 decimal places",
            id="sub-centavo-precision",
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "modules", "selfie"), "1.00"),
            "unknown module(s) selfie",
            id="unknown-module-price",
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "combo", "modules"), ["scores", "biometrics"]),
            "combo.modules: unknown module(s) biometrics",
            id="unknown-combo-module",
        ),
        pytest.param(
            _with(("products", "datatrust-v1", "combo", "includes"), ["whatsapp_token"]),
            "combo.includes: unknown module(s) whatsapp_token",
            id="unknown-included-module",
        ),
        pytest.param(_with(("currency",), "R$"), "currency", id="bad-currency"),
        pytest.param(_with(("evidence",), "guess"), "evidence", id="bad-evidence"),
        pytest.param(
            _with(("exclusions",), [{"reason": "everything"}]),
            "has no condition",
            id="exclusion-without-condition",
        ),
        pytest.param(
            _with(
                ("exclusions",),
                [{"reason": "a", "sides": ["legacy"]}, {"reason": "a", "status_at_least": 400}],
            ),
            "reasons must be unique: a",
            id="duplicate-reason",
        ),
        pytest.param(_with(("products",), None), "products", id="no-products"),
        pytest.param([], "(top level)", id="not-a-mapping"),
    ],
)
def test_a_broken_pricing_file_is_refused_with_file_and_reason(raw: Any, reason: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_pricing(raw, source="mappings/billing/pricing.yaml")
    assert str(caught.value).startswith("mappings/billing/pricing.yaml: invalid pricing: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("currency: [", "cannot read pricing"), (None, "cannot read pricing")],
    ids=["bad-yaml", "missing-file"],
)
def test_an_unreadable_pricing_file_names_the_file(tmp_path: Path, text: str | None, reason: str) -> None:
    path = tmp_path / "pricing.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=reason) as caught:
        load_pricing(path)
    assert str(caught.value).startswith(str(path))


def _row(count: int = 1, **fields: Any) -> UsageRow:
    values: dict[str, Any] = {
        "tenant": "acme",
        "product": "datatrust-v1",
        "operation": "datatrust.transaction.create",
        "stage": "pdt",
        "side": "pdt",
        "status": 200,
        "modules": ("scores", "ratings", "insights"),
        "count": count,
    }
    values.update(fields)
    return UsageRow(**values)


CREATE = "datatrust.transaction.create"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(_row(3), {"billable": 3, "amount": "2.70"}, id="combo"),
        pytest.param(
            _row(2, modules=("pack:datatrust",)), {"billable": 2, "amount": "1.80"}, id="combo-pack"
        ),
        pytest.param(
            _row(1, modules=("insights", "ratings", "scores")),
            {"billable": 1, "amount": "0.90"},
            id="combo-any-order",
        ),
        pytest.param(
            _row(2, modules=("scores", "insights")),
            {"module_transactions": 2, "modules": {"insights": 2, "scores": 2}, "amount": "1.50"},
            id="partial-modules-per-module",
        ),
        pytest.param(
            _row(1, modules=("scores",)),
            {"module_transactions": 1, "modules": {"scores": 1}, "amount": "0.35"},
            id="single-module",
        ),
        pytest.param(
            _row(4, operation="datatrust.token.send", status=201, modules=("sms_token",)),
            {"included": {"sms_token": 4}},
            id="token-send-included",
        ),
        pytest.param(
            _row(1, modules=("scores", "ratings", "insights", "sms_token")),
            {"billable": 1, "included": {"sms_token": 1}, "amount": "0.90"},
            id="token-inside-combo-included",
        ),
        pytest.param(_row(5, status=503, modules=()), {"excluded": {"error": 5}}, id="pdt-failure"),
        pytest.param(_row(2, status=400), {"excluded": {"error": 2}}, id="client-error"),
        pytest.param(
            _row(1, side="legacy", stage="pdt-fallback"), {"excluded": {"legacy-side": 1}}, id="fallback"
        ),
        pytest.param(
            _row(1, side="legacy", status=500), {"excluded": {"error": 1}}, id="first-matching-rule-wins"
        ),
        pytest.param(
            _row(7, operation="datatrust.transaction.get", modules=()),
            {"excluded": {"free-read": 7}},
            id="get-free",
        ),
        pytest.param(_row(1, modules=()), {"excluded": {"no-pdt-module": 1}}, id="no-module"),
        pytest.param(
            _row(2, modules=("pack:other",)), {"unpriced": {"pack:other": 2}}, id="undeclared-pack-unpriced"
        ),
        pytest.param(
            _row(1, product="ffr", operation="ffr.score", modules=("scores", "insights")),
            {
                "module_transactions": 1,
                "modules": {"scores": 1},
                "unpriced": {"insights": 1},
                "amount": "0.60",
            },
            id="module-without-price-unpriced",
        ),
        pytest.param(
            _row(3, product="new-product", operation="x.create", modules=("scores",)),
            {"unpriced": {"scores": 3}},
            id="product-without-prices",
        ),
    ],
)
def test_one_row_is_billed_by_the_declared_rules(row: UsageRow, expected: dict[str, Any]) -> None:
    bill = compute_bill(_pricing(), "2026-02", [row])
    (line,) = bill.lines
    assert (line.tenant, line.product) == (row.tenant, row.product)
    assert line.billable_transactions == expected.get("billable", 0)
    assert line.module_transactions == expected.get("module_transactions", 0)
    assert {name: charge.count for name, charge in line.modules.items()} == expected.get("modules", {})
    assert dict(line.included) == expected.get("included", {})
    assert dict(line.excluded) == expected.get("excluded", {})
    assert dict(line.unpriced) == expected.get("unpriced", {})
    assert line.amount == Decimal(expected.get("amount", "0"))


def test_lines_are_per_tenant_and_product_sorted_with_exact_totals() -> None:
    rows = [
        _row(1, tenant="zeta"),
        _row(2, tenant="acme", modules=("scores",)),
        _row(3, tenant="acme"),
        _row(1, tenant="acme", product="ffr", operation="ffr.score", modules=("scores",)),
    ]
    bill = compute_bill(_pricing(), "2026-02", rows)
    assert [(line.tenant, line.product) for line in bill.lines] == [
        ("acme", "datatrust-v1"),
        ("acme", "ffr"),
        ("zeta", "datatrust-v1"),
    ]
    # 3 x 0.90 + 2 x 0.35 | 0.60 | 0.90, in Decimal: no float rounding anywhere.
    assert [line.amount for line in bill.lines] == [Decimal("3.40"), Decimal("0.60"), Decimal("0.90")]
    assert bill.total == Decimal("4.90")
    assert isinstance(bill.total, Decimal)


def test_the_shipped_prices_bill_every_product_the_mappings_serve() -> None:
    """A product served without prices would be billed as 'unpriced' only."""
    pricing = load_pricing(SHIPPED)
    served = {
        yaml.safe_load(path.read_text(encoding="utf-8"))["product"]
        for path in (project_root() / "mappings").glob("*/product.yaml")
    }
    assert served <= set(pricing.products)


@pytest.mark.parametrize(
    ("row", "billable", "included"),
    [
        (_row(1), 1, {}),
        (
            _row(1, operation="datatrust.token.send", status=201, modules=("email_token",)),
            0,
            {"email_token": 1},
        ),
        (_row(1, product="ffr", operation="ffr.score", modules=("scores", "insights")), 1, {}),
        (
            _row(
                1,
                product="mobile-trust",
                operation="mobiletrust.transaction.create",
                modules=("ratings", "insights", "sms_token"),
            ),
            1,
            {"sms_token": 1},
        ),
    ],
    ids=["datatrust", "datatrust-token", "ffr", "mobile-trust-with-sms"],
)
def test_the_shipped_prices_bill_each_legacy_answer_as_one_transaction(
    row: UsageRow, billable: int, included: dict[str, int]
) -> None:
    (line,) = compute_bill(load_pricing(SHIPPED), "2026-02", [row]).lines
    assert (line.billable_transactions, dict(line.included), line.modules, line.unpriced) == (
        billable,
        included,
        {},
        {},
    )


@pytest.mark.parametrize(
    "operation",
    ["datatrust.transaction.get", "datatrust.token.validate", "mobiletrust.transaction.get"],
)
def test_the_shipped_rules_keep_reads_free(operation: str) -> None:
    (line,) = compute_bill(load_pricing(SHIPPED), "2026-02", [_row(3, operation=operation, modules=())]).lines
    assert dict(line.excluded) == {"free-read": 3}
    assert line.amount == 0


# -- module names come from the PDT vocabulary ----------------------------------------------


def _vocabulary_with_sms_module(name: str) -> PdtVocabulary:
    raw = yaml.safe_load(
        (project_root() / "mappings" / "pdt" / "vocabulary.yaml").read_text(encoding="utf-8")
    )
    raw["channels"]["sms"]["module"] = name
    return parse_vocabulary(raw, source="vocabulary.yaml")


RENAMED = _vocabulary_with_sms_module("sms_otp")


@pytest.mark.parametrize(
    ("vocabulary", "name", "accepted"),
    [
        (None, "sms_token", True),
        (None, "sms_otp", False),
        (RENAMED, "sms_otp", True),
        (RENAMED, "sms_token", False),
    ],
    ids=["shipped-shipped-name", "shipped-new-name", "renamed-new-name", "renamed-old-name"],
)
def test_module_names_are_checked_against_the_given_vocabulary(
    vocabulary: PdtVocabulary | None, name: str, accepted: bool
) -> None:
    raw = {"evidence": "sample", "currency": "BRL", "products": {"ffr": {"modules": {name: "0.10"}}}}
    if accepted:
        pricing = parse_pricing(raw, source="pricing.yaml", vocabulary=vocabulary)
        assert pricing.products["ffr"].modules == {name: Decimal("0.10")}
    else:
        with pytest.raises(MappingError, match=f"unknown module\\(s\\) {name}"):
            parse_pricing(raw, source="pricing.yaml", vocabulary=vocabulary)
