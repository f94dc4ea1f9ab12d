"""DE-PARA code tables: CSV files declared in a product's ``tables.yaml``.

A table maps one key column (a PDT code, a PDT rating pair, ...) to the legacy
columns. What happens to a key the table does not hold is the table's declared
``unmapped`` policy, never an accident of the code:

- ``drop``: the value disappears (a list item holding it is dropped), and is counted;
- ``pass``: the raw upstream value goes through unchanged, and is counted;
- ``default``: the declared ``default`` row answers, and is counted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from proxy.errors import MappingError

__all__ = [
    "CodeTable",
    "CoverageDeclaration",
    "TableDeclaration",
    "UnmappedPolicy",
    "load_table",
    "parse_declarations",
    "parse_table_csv",
]

UnmappedPolicy = Literal["drop", "pass", "default"]


class CoverageDeclaration(BaseModel):
    """Which catalogues lint compares the table against (``file:column``, relative to mappings/)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    keys_from: str | None = None
    values_from: str | None = None
    value_column: str | None = None


class TableDeclaration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str
    description: str
    evidence: Literal["documented", "client code", "reconstructed", "sample"]
    key: str
    columns: tuple[str, ...] = Field(min_length=1)
    unmapped: UnmappedPolicy
    default: dict[str, str] | None = None
    allowed: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # Columns whose every value must be a whole number (an ordering weight, say).
    integer_columns: tuple[str, ...] = ()
    # Keys the legacy product deliberately had no counterpart for: dropped without
    # being counted as unmapped, so the unmapped counters only show real gaps.
    ignore: tuple[str, ...] = ()
    coverage: CoverageDeclaration | None = None

    @model_validator(mode="after")
    def _default_matches_policy(self) -> TableDeclaration:
        if self.unmapped == "default":
            if self.default is None:
                raise ValueError("unmapped: default needs a 'default' row")
            missing = set(self.columns) - set(self.default)
            if missing:
                raise ValueError(f"default row lacks columns {sorted(missing)}")
        elif self.default is not None:
            raise ValueError(f"a 'default' row is only used with unmapped: default, not {self.unmapped}")
        for name, named in (("allowed", set(self.allowed)), ("integer_columns", set(self.integer_columns))):
            unknown = named - set(self.columns)
            if unknown:
                raise ValueError(f"{name!r} names columns the table does not have: {sorted(unknown)}")
        return self


@dataclass(frozen=True, slots=True)
class CodeTable:
    name: str
    declaration: TableDeclaration
    rows: Mapping[str, Mapping[str, str]] = field(repr=False)
    source: str = ""

    @property
    def policy(self) -> UnmappedPolicy:
        return self.declaration.unmapped

    def column(self, name: str) -> dict[str, str]:
        """key → value of one column: what a compiled lookup closes over."""
        return {key: row[name] for key, row in self.rows.items()}


def parse_table_csv(text: str, declaration: TableDeclaration, *, source: str) -> dict[str, dict[str, str]]:
    """Parse and check a table's CSV text; raises MappingError naming the file, row and reason."""
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    expected = (declaration.key, *declaration.columns)
    missing = [name for name in expected if name not in header]
    if missing:
        raise MappingError(source, f"header lacks columns {missing} (header is {list(header)})")
    rows: dict[str, dict[str, str]] = {}
    for line_number, record in enumerate(reader, start=2):
        key = (record.get(declaration.key) or "").strip()
        where = f"line {line_number}"
        if not key:
            raise MappingError(source, f"{where}: empty key column {declaration.key!r}")
        if key in rows:
            raise MappingError(source, f"{where}: key {key!r} appears twice")
        row = {name: (record.get(name) or "").strip() for name in declaration.columns}
        for name, allowed in declaration.allowed.items():
            if row[name] not in allowed:
                raise MappingError(
                    source, f"{where}: {name}={row[name]!r} is not one of {list(allowed)} (key {key!r})"
                )
        for name in declaration.integer_columns:
            if not _is_integer(row[name]):
                raise MappingError(
                    source, f"{where}: {name}={row[name]!r} is not a whole number (key {key!r})"
                )
        rows[key] = row
    both = sorted(set(rows) & set(declaration.ignore))
    if both:
        raise MappingError(source, f"keys {both} have rows and are also declared 'ignore'")
    if not rows:
        raise MappingError(source, "the table has no rows")
    return rows


_INTEGER = re.compile(r"^-?[0-9]+$")


def _is_integer(text: str) -> bool:
    return _INTEGER.match(text) is not None


def load_table(name: str, declaration: TableDeclaration, directory: Path, *, root: Path) -> CodeTable:
    path = directory / declaration.file
    source = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(source, f"cannot read table {name!r}: {exc.strerror}") from exc
    return CodeTable(name, declaration, parse_table_csv(text, declaration, source=source), source)


def parse_declarations(raw: object, *, source: str) -> dict[str, TableDeclaration]:
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise MappingError(source, "expected a top-level 'tables' mapping")
    declarations: dict[str, TableDeclaration] = {}
    for name, body in raw["tables"].items():
        try:
            declarations[str(name)] = TableDeclaration.model_validate(body)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "table"
            raise MappingError(source, f"table {name!r}: {where}: {problem['msg']}") from None
    return declarations
