"""Offline checks of the mappings, and the DE-PARA coverage report.

``lint`` compiles the catalog exactly as ``serve`` does (so a file that lint
accepts is a file the proxy starts with), then, for every table that declares the
catalogues it translates between, reports:

- PDT codes that reach no legacy code (they will be handled by the table's
  unmapped policy and counted at run time);
- legacy codes no PDT code reaches (the legacy client will never see them again);
- rows whose PDT code is not in the PDT catalogue (dead rows).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from proxy.errors import MappingError
from proxy.mapping.catalog import MappingCatalog
from proxy.mapping.tables import CodeTable

__all__ = ["TableCoverage", "coverage_report", "format_report", "read_catalogue_column"]


@dataclass(frozen=True)
class TableCoverage:
    product: str
    table: str
    rows: int
    unmapped_policy: str
    pdt_codes_unreached: tuple[str, ...]
    legacy_codes_unreached: tuple[str, ...]
    dead_rows: tuple[str, ...]


def read_catalogue_column(reference: str, *, base: Path, root: Path) -> frozenset[str]:
    """Values of ``file.csv:column``, the file relative to ``base`` and inside ``root``."""
    file_name, _, column = reference.rpartition(":")
    if not file_name or not column:
        raise MappingError(str(base), f"coverage reference {reference!r} is not 'file.csv:column'")
    path = (base / file_name).resolve()
    if not path.is_relative_to(root):
        raise MappingError(str(base), f"coverage reference {reference!r} leaves the mappings directory")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if column not in (reader.fieldnames or ()):
                raise MappingError(str(path.relative_to(root)), f"no column {column!r} for coverage")
            return frozenset(row[column].strip() for row in reader if row[column].strip())
    except OSError as exc:
        raise MappingError(str(base), f"cannot read coverage catalogue {file_name}: {exc.strerror}") from exc


def _table_coverage(product: str, table: CodeTable, tables_dir: Path, root: Path) -> TableCoverage | None:
    coverage = table.declaration.coverage
    if coverage is None:
        return None
    keys = frozenset(table.rows)
    pdt_unreached: frozenset[str] = frozenset()
    dead: frozenset[str] = frozenset()
    legacy_unreached: frozenset[str] = frozenset()
    if coverage.keys_from:
        pdt_codes = read_catalogue_column(coverage.keys_from, base=tables_dir, root=root)
        pdt_unreached = pdt_codes - keys
        dead = keys - pdt_codes
    if coverage.values_from:
        column = coverage.value_column or table.declaration.columns[0]
        legacy_codes = read_catalogue_column(coverage.values_from, base=tables_dir, root=root)
        reached = frozenset(row[column] for row in table.rows.values())
        legacy_unreached = legacy_codes - reached
    return TableCoverage(
        product,
        table.name,
        len(table.rows),
        table.policy,
        tuple(sorted(pdt_unreached)),
        tuple(sorted(legacy_unreached)),
        tuple(sorted(dead)),
    )


def coverage_report(catalog: MappingCatalog) -> list[TableCoverage]:
    report: list[TableCoverage] = []
    for product in catalog.products.values():
        if product.spec.tables is None:
            continue
        tables_dir = (product.directory / product.spec.tables).parent
        for table in product.tables.values():
            entry = _table_coverage(product.name, table, tables_dir, catalog.root)
            if entry is not None:
                report.append(entry)
    return report


def format_report(catalog: MappingCatalog, report: list[TableCoverage]) -> str:
    lines = []
    for product in catalog.products.values():
        operations = len(product.routes)
        rules = sum(
            len(route.operation.response_mapper.provenance)
            + (len(route.operation.request_mapper.provenance) if route.operation.request_mapper else 0)
            for route in product.routes
        )
        lines.append(
            f"{product.name}: {_count(operations, 'operation')}, {_count(rules, 'field rule')}, "
            f"{_count(len(product.tables), 'table')}: OK"
        )
    for entry in report:
        lines.append(
            f"\n{entry.product} / {entry.table} ({entry.rows} rows, unmapped policy: {entry.unmapped_policy})"
        )
        lines.append(_codes("  PDT codes that reach no legacy code", entry.pdt_codes_unreached))
        lines.append(_codes("  legacy codes no PDT code reaches", entry.legacy_codes_unreached))
        lines.append(_codes("  rows whose PDT code is not in the PDT catalogue", entry.dead_rows))
    return "\n".join(lines)


def _codes(title: str, codes: tuple[str, ...]) -> str:
    return f"{title}: {len(codes)}" + (f" ({', '.join(codes)})" if codes else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
