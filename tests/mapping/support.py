"""Helpers shared by the mapping tests (importable at collection time, unlike fixtures)."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

from stdnum.br import cnpj, cpf

from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.mapping.operation import Operation
from proxy.mapping.schemas import CompiledSchema, load_schema
from proxy.mapping.spec import FieldRule
from proxy.mapping.tables import CodeTable, TableDeclaration, parse_table_csv

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
DATATRUST = MAPPINGS / "datatrust-v1"
PRODUCT = "datatrust-v1"


@functools.cache
def shipped_catalog() -> MappingCatalog:
    return load_catalog(MAPPINGS)


def operation(name: str) -> Operation:
    """The shipped Data Trust v1 operation called ``name`` (``datatrust.transaction.create``)."""
    for route in shipped_catalog().products[PRODUCT].routes:
        if route.operation.name == name:
            return route.operation
    raise KeyError(name)


def copy_mappings(destination: Path) -> Path:
    """A writable copy of the shipped mappings directory."""
    target = destination / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def schema_from(directory: Path, schema: dict[str, Any], name: str = "schema.json") -> CompiledSchema:
    path = directory / name
    path.write_text(json.dumps(schema), encoding="utf-8")
    return load_schema(path, root=directory)


def rules(*raw: dict[str, Any]) -> list[FieldRule]:
    return [FieldRule.model_validate(item) for item in raw]


def code_table(
    name: str,
    csv_text: str,
    *,
    key: str = "code",
    columns: tuple[str, ...] = ("legacy",),
    unmapped: str = "drop",
    default: dict[str, str] | None = None,
) -> CodeTable:
    declaration = TableDeclaration.model_validate(
        {
            "file": f"{name}.csv",
            "description": "test table",
            "evidence": "sample",
            "key": key,
            "columns": list(columns),
            "unmapped": unmapped,
            "default": default,
        }
    )
    return CodeTable(
        name, declaration, parse_table_csv(csv_text, declaration, source=f"{name}.csv"), f"{name}.csv"
    )


def make_cpf(base: str) -> str:
    """A valid CPF from its first nine digits (mod-11, weights 10..2 then 11..2)."""
    digits = [int(char) for char in base]
    for weights_from in (10, 11):
        total = sum(weight * digit for weight, digit in zip(range(weights_from, 1, -1), digits, strict=True))
        digits.append((11 - total) % 11 % 10)
    number = "".join(str(digit) for digit in digits)
    assert cpf.is_valid(number), number
    return number


def make_cnpj(base: str) -> str:
    """A valid CNPJ from its first twelve digits."""
    return base + str(cnpj.calc_check_digits(base))


def punctuate_cpf(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def punctuate_cnpj(digits: str) -> str:
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def load_json(path: Path) -> dict[str, Any]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded
