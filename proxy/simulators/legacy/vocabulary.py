"""Each legacy product's vocabulary, read from its DE-PARA code tables as data.

The tables under ``mappings/<product>/tables`` say how a PDT insight code, rating
pair or rating value is named in the legacy product. The legacy simulator speaks
the same vocabulary, so it reads the same rows (through the mapping catalog's
``CodeTable`` objects) and honours each table's declared policy for a key no row
covers (``drop``, ``pass``, ``default``, and the ``ignore`` list). It never runs the
proxy's compiled response rules: the simulator stands for the legacy backend, and
comparing the proxy with a copy of itself would prove nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from proxy.errors import ConfigError
from proxy.mapping.catalog import MappingCatalog, Product
from proxy.mapping.tables import CodeTable, UnmappedPolicy

__all__ = [
    "DATATRUST",
    "FFR",
    "FFR_SECTIONS",
    "MOBILE_TRUST",
    "FfrVocabulary",
    "InsightVocabulary",
    "Lookup",
    "RatingVocabulary",
    "Vocabularies",
    "load_vocabularies",
    "pair_key",
]

DATATRUST: Final = "datatrust-v1"
FFR: Final = "ffr"
MOBILE_TRUST: Final = "mobile-trust"
# FFR's three sections, in the order its answer lists them, and where each one
# sits in the answer (the caps come from the contract's maxItems).
FFR_SECTIONS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("Negative", ("Reports", "Negative")),
    ("Positive", ("Reports", "Positive")),
    ("AttackAlert", ("AttackAlerts",)),
)


def pair_key(pair: tuple[str, str]) -> str:
    """A PDT rating pair as the tables key it: the names sorted and joined with ``+``."""
    return "+".join(sorted(pair))


@dataclass(frozen=True, slots=True)
class Lookup:
    """One column of one code table, with the table's policy for keys it lacks."""

    table: str
    values: Mapping[str, str]
    policy: UnmappedPolicy
    default: str | None
    ignored: frozenset[str]

    def get(self, key: str) -> str | None:
        """The legacy value for ``key``, or None when the legacy product leaves it out."""
        value = self.values.get(key)
        if value is not None:
            return value
        if key in self.ignored or self.policy == "drop":
            return None
        return key if self.policy == "pass" else self.default


@dataclass(frozen=True, slots=True)
class InsightVocabulary:
    code: Lookup
    description: Lookup
    type: Lookup


@dataclass(frozen=True, slots=True)
class RatingVocabulary:
    relation: Lookup
    value: Lookup


@dataclass(frozen=True, slots=True)
class FfrVocabulary:
    code: Lookup
    description: Lookup
    section: Lookup
    weight: Lookup
    # Section name -> how many variables the answer lists at most.
    caps: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Vocabularies:
    datatrust_insights: InsightVocabulary
    datatrust_ratings: RatingVocabulary
    ffr: FfrVocabulary
    mobile_trust_insights: InsightVocabulary
    mobile_trust_ratings: RatingVocabulary


def _lookup(product: Product, table_name: str, column: str) -> Lookup:
    table: CodeTable | None = product.tables.get(table_name)
    if table is None:
        raise ConfigError(f"{product.name}: the legacy simulator needs code table {table_name!r}")
    declaration = table.declaration
    if column not in declaration.columns:
        raise ConfigError(f"{product.name}: code table {table_name!r} has no column {column!r}")
    default = declaration.default.get(column) if declaration.default is not None else None
    return Lookup(
        table=table_name,
        values=table.column(column),
        policy=declaration.unmapped,
        default=default,
        ignored=frozenset(declaration.ignore),
    )


def _product(catalog: MappingCatalog, name: str) -> Product:
    product = catalog.products.get(name)
    if product is None:
        raise ConfigError(f"the legacy simulator needs product {name!r} under {catalog.root}")
    return product


def _max_items(product: Product, operation: str, location: tuple[str, ...]) -> int:
    """A list's cap as the legacy answer's contract states it (``maxItems``)."""
    for route in product.routes:
        if route.operation.name != operation:
            continue
        node: Any = route.operation.legacy_response.schema
        for step in location:
            node = node.get("properties", {}).get(step, {}) if isinstance(node, dict) else {}
        cap = node.get("maxItems") if isinstance(node, dict) else None
        if isinstance(cap, int) and cap >= 0:
            return cap
    raise ConfigError(f"{product.name}: {operation} answer has no maxItems at {'.'.join(location)}")


def load_vocabularies(catalog: MappingCatalog, *, ffr_operation: str = "ffr.score") -> Vocabularies:
    """Read the tables the simulator speaks through; a missing table or column stops startup."""
    datatrust = _product(catalog, DATATRUST)
    ffr = _product(catalog, FFR)
    mobile = _product(catalog, MOBILE_TRUST)
    return Vocabularies(
        datatrust_insights=InsightVocabulary(
            code=_lookup(datatrust, "insights", "legacy_code"),
            description=_lookup(datatrust, "insights", "description"),
            type=_lookup(datatrust, "insights", "type"),
        ),
        datatrust_ratings=RatingVocabulary(
            relation=_lookup(datatrust, "rating-pairs", "legacy"),
            value=_lookup(datatrust, "rating-values", "legacy"),
        ),
        ffr=FfrVocabulary(
            code=_lookup(ffr, "codes", "ffr_code"),
            description=_lookup(ffr, "codes", "description"),
            section=_lookup(ffr, "codes", "section"),
            weight=_lookup(ffr, "codes", "weight"),
            caps={section: _max_items(ffr, ffr_operation, where) for section, where in FFR_SECTIONS},
        ),
        mobile_trust_insights=InsightVocabulary(
            code=_lookup(mobile, "insights", "mt_code"),
            description=_lookup(mobile, "insights", "description"),
            type=_lookup(mobile, "insights", "type"),
        ),
        mobile_trust_ratings=RatingVocabulary(
            relation=_lookup(mobile, "rating-relations", "relation"),
            value=_lookup(mobile, "rating-values", "value"),
        ),
    )
