"""Pricing as data, and the bill as a pure function of a month's usage.

``load_pricing`` reads and validates ``mappings/billing/pricing.yaml`` (unknown
keys, negative or float prices, unknown module names all stop with the file and
the reason). ``compute_bill`` turns aggregated ledger rows into per-tenant,
per-product lines; it does no I/O, so every billing rule is tested as a table.

How one ledger row is billed, in this order:

1. **Exclusions**, declared in the file, first match wins: the row's transactions
   are counted under the rule's ``reason`` and cost nothing (errors the client
   received, answers from the legacy side, free reads).
2. **Combo**: a product's combo is the set of PDT modules that replaces its legacy
   answer (Data Trust v1: scores + ratings + insights, or its PDT pack). A
   transaction that called every combo module (or a combo pack) is one billable
   transaction at the combo price: the legacy per-transaction price.
3. **Included modules**: modules the legacy price already covers (Data Trust v1's
   2FA/token by SMS or e-mail) are counted, never charged, on that product,
   whether they were sent inside the transaction's call or by a later token call
   on it: a Data Trust v1 token always belongs to a transaction the client paid
   for. An operator who wants tokens charged removes them from ``includes``.
4. **Per module**: any other module called (a transaction that did not call the
   whole combo, or a module beyond it) is charged at that module's price.
5. **Unpriced**: a product or module the file has no price for is counted under
   ``unpriced``, never dropped, so a missing price shows on the export.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from proxy.errors import MappingError
from proxy.ledger.record import UsageRow
from proxy.pdt_vocabulary import PdtVocabulary, default_vocabulary
from proxy.yaml_files import load_yaml

__all__ = [
    "Bill",
    "BillLine",
    "Exclusion",
    "ModuleCharge",
    "Pricing",
    "ProductPricing",
    "compute_bill",
    "load_pricing",
    "parse_pricing",
]

PACK_PREFIX: Final = "pack:"
# Up to a hundredth of a centavo: high-volume unit prices go below one centavo.
_MAX_PRICE_PLACES: Final = 4
_SLUG = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"


def _money(value: Any) -> Decimal:
    if isinstance(value, (bool, float)):
        # YAML reads 0.10 as a binary float; money is written as a quoted string.
        raise ValueError('write prices as quoted strings ("0.90"), not YAML numbers')
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a price") from None
    if not price.is_finite() or price < 0:
        raise ValueError(f"price {value!r} must be zero or positive")
    exponent = price.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_PRICE_PLACES:
        raise ValueError(f"price {value!r} has more than {_MAX_PRICE_PLACES} decimal places")
    return price


def _known(modules: Iterable[str], where: str, info: ValidationInfo) -> None:
    """What the PDT path can record: the PDT vocabulary's modules and token sends (packs,
    ``pack:<name>``, are declared under a combo's ``packs``). The vocabulary comes in
    the validation context; the project's own when none is given."""
    context = info.context
    vocabulary = context.get("vocabulary") if isinstance(context, dict) else None
    known = (vocabulary if isinstance(vocabulary, PdtVocabulary) else default_vocabulary()).recorded_modules
    unknown = sorted(set(modules) - known)
    if unknown:
        raise ValueError(
            f"{where}: unknown module(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Combo(_Strict):
    description: str = ""
    price: Decimal
    modules: tuple[str, ...] = Field(min_length=1)
    packs: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Decimal:
        return _money(value)

    @model_validator(mode="after")
    def _modules_known(self, info: ValidationInfo) -> Combo:
        _known(self.modules, "combo.modules", info)
        _known(self.includes, "combo.includes", info)
        for pack in self.packs:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,63}", pack):
                raise ValueError(f"combo.packs: {pack!r} is not a pack name")
        return self


class ProductPricing(_Strict):
    description: str = ""
    combo: Combo | None = None
    modules: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("modules", mode="before")
    @classmethod
    def _prices(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict):
            return value
        _known(value, "modules", info)
        return {name: _money(price) for name, price in value.items()}


class Exclusion(_Strict):
    """Rows matching every condition given are excluded under ``reason``."""

    reason: str = Field(pattern=_SLUG)
    description: str = ""
    status_at_least: int | None = Field(default=None, ge=100, le=599)
    sides: tuple[str, ...] | None = None
    stages: tuple[str, ...] | None = None
    products: tuple[str, ...] | None = None
    operations: tuple[str, ...] | None = None
    no_modules: bool = False

    @model_validator(mode="after")
    def _has_a_condition(self) -> Exclusion:
        conditions = (self.status_at_least, self.sides, self.stages, self.products, self.operations)
        if all(condition is None for condition in conditions) and not self.no_modules:
            raise ValueError(f"exclusion {self.reason!r} has no condition: it would exclude everything")
        return self

    def matches(self, row: UsageRow) -> bool:
        return (
            (self.status_at_least is None or row.status >= self.status_at_least)
            and (self.sides is None or row.side in self.sides)
            and (self.stages is None or row.stage in self.stages)
            and (self.products is None or row.product in self.products)
            and (self.operations is None or row.operation in self.operations)
            and (not self.no_modules or not row.modules)
        )


class Pricing(_Strict):
    evidence: Literal["sample", "contract"]
    description: str = ""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    products: dict[str, ProductPricing]
    exclusions: tuple[Exclusion, ...] = ()

    @model_validator(mode="after")
    def _unique_reasons(self) -> Pricing:
        reasons = Counter(exclusion.reason for exclusion in self.exclusions)
        repeated = sorted(reason for reason, count in reasons.items() if count > 1)
        if repeated:
            raise ValueError(f"exclusion reasons must be unique: {', '.join(repeated)}")
        return self

    def exclusion_for(self, row: UsageRow) -> str | None:
        for exclusion in self.exclusions:
            if exclusion.matches(row):
                return exclusion.reason
        return None


def parse_pricing(raw: Any, *, source: str, vocabulary: PdtVocabulary | None = None) -> Pricing:
    """``vocabulary`` names the modules a price may be given for (default: the project's)."""
    try:
        return Pricing.model_validate(raw, context={"vocabulary": vocabulary or default_vocabulary()})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise MappingError(source, f"invalid pricing: {problems}") from None


def load_pricing(path: Path, *, vocabulary: PdtVocabulary | None = None) -> Pricing:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(str(path), f"cannot read pricing: {exc}") from None
    return parse_pricing(raw, source=str(path), vocabulary=vocabulary)


@dataclass(frozen=True, slots=True)
class ModuleCharge:
    count: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.price * self.count


@dataclass(frozen=True, slots=True)
class BillLine:
    tenant: str
    product: str
    billable_transactions: int
    combo_price: Decimal | None
    module_transactions: int
    modules: Mapping[str, ModuleCharge]
    included: Mapping[str, int]
    excluded: Mapping[str, int]
    unpriced: Mapping[str, int]

    @property
    def combo_amount(self) -> Decimal:
        return (self.combo_price or Decimal(0)) * self.billable_transactions

    @property
    def amount(self) -> Decimal:
        return self.combo_amount + sum((charge.amount for charge in self.modules.values()), Decimal(0))


@dataclass(frozen=True, slots=True)
class Bill:
    month: str
    currency: str
    evidence: str
    tenant: str | None
    lines: tuple[BillLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


@dataclass
class _Tally:
    combos: int = 0
    module_transactions: int = 0
    modules: Counter[str] = field(default_factory=Counter)
    included: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)
    unpriced: Counter[str] = field(default_factory=Counter)


def _is_combo(combo: Combo | None, modules: frozenset[str]) -> bool:
    if combo is None:
        return False
    return modules.issuperset(combo.modules) or any(PACK_PREFIX + pack in modules for pack in combo.packs)


def _tally(tally: _Tally, product: ProductPricing | None, row: UsageRow) -> None:
    modules = frozenset(row.modules)
    if product is None:
        for name in sorted(modules) or ["transaction"]:
            tally.unpriced[name] += row.count
        return
    combo = product.combo
    remaining = modules
    if _is_combo(combo, modules):
        assert combo is not None
        tally.combos += row.count
        remaining = modules - set(combo.modules) - {PACK_PREFIX + pack for pack in combo.packs}
    charged = False
    for name in sorted(remaining):
        if combo is not None and name in combo.includes:
            tally.included[name] += row.count
        elif name in product.modules:
            tally.modules[name] += row.count
            charged = True
        else:
            tally.unpriced[name] += row.count
    if charged and not _is_combo(combo, modules):
        tally.module_transactions += row.count


def compute_bill(
    pricing: Pricing, month: str, rows: Iterable[UsageRow], *, tenant: str | None = None
) -> Bill:
    """The month's bill: one line per (tenant, product), sorted, amounts exact."""
    tallies: dict[tuple[str, str], _Tally] = {}
    for row in rows:
        tally = tallies.setdefault((row.tenant, row.product), _Tally())
        reason = pricing.exclusion_for(row)
        if reason is not None:
            tally.excluded[reason] += row.count
            continue
        _tally(tally, pricing.products.get(row.product), row)
    lines = []
    for (tenant_id, product_name), tally in sorted(tallies.items()):
        product = pricing.products.get(product_name)
        combo = product.combo if product else None
        lines.append(
            BillLine(
                tenant=tenant_id,
                product=product_name,
                billable_transactions=tally.combos,
                combo_price=combo.price if combo else None,
                module_transactions=tally.module_transactions,
                modules={
                    name: ModuleCharge(count, product.modules[name])
                    for name, count in sorted(tally.modules.items())
                    if product is not None
                },
                included=dict(sorted(tally.included.items())),
                excluded=dict(sorted(tally.excluded.items())),
                unpriced=dict(sorted(tally.unpriced.items())),
            )
        )
    return Bill(month, pricing.currency, pricing.evidence, tenant, tuple(lines))
