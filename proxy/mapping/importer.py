"""``pdt-proxy import-table``: an operator's DE-PARA spreadsheet into a checked table.

Operators receive DE-PARA tables as spreadsheets and export them as CSV, often
with semicolons (Excel in pt-BR) and their own column titles. The importer detects
the delimiter, renames columns (``--column legacy_code="Código legado"``), checks
every row against the table's declaration, writes the normalised CSV in place,
and then recompiles the whole catalog: if anything that uses the table breaks, the
previous file is put back and the import fails. Either the new table is live and
valid, or nothing changed.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from proxy.errors import MappingError
from proxy.mapping.catalog import load_catalog
from proxy.mapping.tables import TableDeclaration, parse_table_csv

__all__ = ["ImportResult", "import_table", "normalise_csv"]


@dataclass(frozen=True)
class ImportResult:
    table_file: Path
    rows: int
    added: int
    removed: int
    changed: int


def normalise_csv(text: str, declaration: TableDeclaration, renames: Mapping[str, str]) -> str:
    """The operator's CSV rewritten with commas and the declared column names."""
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        # The sniffer gives up when rows are uneven; the header line still shows the delimiter.
        dialect = csv.excel
        delimiter = max(",;\t", key=sample.partition("\n")[0].count)
    rows = list(csv.reader(io.StringIO(text), dialect, delimiter=delimiter))
    if not rows:
        raise MappingError("<input>", "the CSV is empty")
    wanted = (declaration.key, *declaration.columns)
    titles = {title.strip().casefold(): index for index, title in enumerate(rows[0])}
    positions: list[int] = []
    for name in wanted:
        title = renames.get(name, name).strip().casefold()
        if title not in titles:
            raise MappingError(
                "<input>", f"no column {renames.get(name, name)!r} for {name!r} (header: {rows[0]})"
            )
        positions.append(titles[title])
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(wanted)
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if max(positions) >= len(row):
            raise MappingError(
                "<input>", f"line {number}: {len(row)} cells, expected at least {max(positions) + 1}"
            )
        writer.writerow([row[index].strip() for index in positions])
    return output.getvalue()


def import_table(
    source: Path, *, mappings_dir: Path, product: str, table: str, renames: Mapping[str, str]
) -> ImportResult:
    catalog = load_catalog(mappings_dir)
    if product not in catalog.products:
        raise MappingError(
            str(mappings_dir), f"unknown product {product!r} (known: {sorted(catalog.products)})"
        )
    declarations = catalog.table_declarations[product]
    if table not in declarations:
        raise MappingError(product, f"unknown table {table!r} (declared: {sorted(declarations)})")
    declaration = declarations[table]
    loaded = catalog.products[product]
    target = (loaded.directory / (loaded.spec.tables or "")).parent / declaration.file
    try:
        text = source.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets exported on Windows in pt-BR are often Latin-1.
        text = source.read_text(encoding="latin-1")
    except OSError as exc:
        raise MappingError(str(source), f"cannot read: {exc.strerror}") from exc
    normalised = normalise_csv(text, declaration, renames)
    new_rows = parse_table_csv(normalised, declaration, source=str(source))
    old_rows = loaded.tables[table].rows
    previous = target.read_bytes()
    draft = target.with_name(target.name + ".importing")
    draft.write_text(normalised, encoding="utf-8")
    os.replace(draft, target)
    try:
        load_catalog(mappings_dir)
    except MappingError:
        target.write_bytes(previous)
        raise
    return ImportResult(
        target,
        len(new_rows),
        added=len(new_rows.keys() - old_rows.keys()),
        removed=len(old_rows.keys() - new_rows.keys()),
        changed=sum(1 for key in new_rows.keys() & old_rows.keys() if new_rows[key] != old_rows[key]),
    )
