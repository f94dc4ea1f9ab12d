"""Helpers shared by the mapping tests (importable at collection time, unlike fixtures)."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from stdnum.br import cnpj, cpf

from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.mapping.operation import Operation
from proxy.mapping.schemas import CompiledSchema, load_schema
from proxy.mapping.spec import FieldRule, OperationSpec
from proxy.mapping.tables import CodeTable, TableDeclaration, parse_table_csv
from proxy.mapping.transforms import UnmappedCode

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings"
DATATRUST = MAPPINGS / "datatrust-v1"
FFR = MAPPINGS / "ffr"
MOBILE_TRUST = MAPPINGS / "mobile-trust"
V1_FAMILY = MAPPINGS / "v1-family"
PRODUCT = "datatrust-v1"


@functools.cache
def shipped_catalog() -> MappingCatalog:
    return load_catalog(MAPPINGS)


def operation(name: str) -> Operation:
    """The shipped operation called ``name`` (``datatrust.transaction.create``, ``ffr.score``)."""
    for product in shipped_catalog().products.values():
        for route in product.routes:
            if route.operation.name == name:
                return route.operation
    raise KeyError(name)


def table_rows(product: str, table: str) -> list[tuple[str, dict[str, str]]]:
    """The rows of a shipped code table, as (key, columns) pairs in file order."""
    rows = shipped_catalog().products[product].tables[table].rows
    return [(key, dict(row)) for key, row in rows.items()]


# --- golden pairs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Golden:
    """One golden pair: ``given`` maps to ``expected`` through ``operation``, exercising ``rules``."""

    name: str
    operation: str
    direction: Literal["request", "response"]
    given: Any
    expected: Any
    rules: frozenset[str]
    unmapped: tuple[UnmappedCode, ...] = field(default=())


def run_golden(case: Golden) -> tuple[Any, tuple[UnmappedCode, ...]]:
    """Map a golden case's ``given``; a response must also be valid under the legacy schema."""
    op = operation(case.operation)
    if case.direction == "request":
        return op.to_pdt(op.parse_request(case.given)), ()
    legacy, trace = op.to_legacy(case.given)
    assert op.legacy_response.is_valid(legacy), op.legacy_response.violations(legacy)
    return legacy, tuple(trace.unmapped)


def golden_cases(product_directory: Path) -> tuple[Golden, ...]:
    """The golden pairs a product keeps as data: ``examples/golden.yaml``.

    A case names a sample request of the same directory (``given_example``) or
    holds its input inline (``given``).
    """
    examples = product_directory / "examples"
    entries = yaml.safe_load((examples / "golden.yaml").read_text(encoding="utf-8"))
    cases = []
    for entry in entries:
        given = (
            load_json(examples / f"{entry['given_example']}.json")
            if "given_example" in entry
            else entry["given"]
        )
        unmapped = tuple(UnmappedCode(table, code) for table, code in entry.get("unmapped", ()))
        cases.append(
            Golden(
                entry["name"],
                entry["operation"],
                entry["direction"],
                given,
                entry["expected"],
                frozenset(entry["rules"]),
                unmapped,
            )
        )
    return tuple(cases)


def golden_case(cases: tuple[Golden, ...], name: str) -> Golden:
    (case,) = [case for case in cases if case.name == name]
    return case


def walk_rules(rules: Iterable[FieldRule]) -> Iterator[FieldRule]:
    """Every rule of a list, nested ``each``/``pick`` item rules included."""
    for rule in rules:
        yield rule
        for nested in (rule.each, rule.pick):
            if nested is not None:
                yield from walk_rules(nested.fields)


def rule_ids_in_operations(product_directory: Path) -> set[str]:
    """The rule ids of every ``operations/*.yaml`` file of a product directory.

    Read through the spec models, so a rule written in a short form (a flat table
    row, a group section, an id defaulted to the target) counts as the rule it is.
    """
    found: set[str] = set()
    for path in sorted((product_directory / "operations").glob("*.yaml")):
        spec = OperationSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        request_rules = spec.request.rules if spec.request is not None else []
        found.update(rule.id for rule in walk_rules([*request_rules, *spec.response.rules]))
    return found


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
    ignore: tuple[str, ...] = (),
) -> CodeTable:
    declaration = TableDeclaration.model_validate(
        {
            "ignore": list(ignore),
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


MINI_TABLES = """\
tables:
  codes:
    file: codes.csv
    description: PDT code -> legacy code and kind
    evidence: sample
    key: pdt_code
    columns: [legacy, kind]
    unmapped: drop
    coverage:
      keys_from: ../catalogue/pdt-codes.csv:code
      values_from: legacy-codes.csv:code
      value_column: legacy
  codes-strict:
    # The same file, read with stricter rules: an import into 'codes' that breaks
    # these must be rolled back.
    file: codes.csv
    description: the same rows, kinds checked
    evidence: sample
    key: pdt_code
    columns: [legacy, kind]
    allowed:
      kind: [Good, Bad]
    unmapped: pass
  levels:
    file: levels.csv
    description: no coverage declared
    evidence: reconstructed
    key: level
    columns: [label]
    unmapped: default
    default: {label: Unknown}
"""
MINI_CODES = "pdt_code,legacy,kind\nP1,L1,Good\nP2,L2,Bad\nP3,L1,Good\nPX,LX,Bad\n"
MINI_OPERATION = """\
operation: mini.get
description: read codes back
evidence: sample
pdt_call: get_all
response:
  schema: ../contract/answer.json
  source_schema: ../../pdt-mini/answer.json
  rules:
    - id: mini.codes
      to: codes
      from: codes
      default: []
      each:
        fields:
          - id: mini.code
            to: code
            from: code
            transform: {table: {name: codes, column: legacy}}
          - id: mini.kind
            to: kind
            from: code
            transform: {table: {name: codes-strict, column: kind}}
"""


def build_mini_catalog(root: Path) -> Path:
    """A one-product, one-route catalog under ``root/mappings`` for lint and import tests."""
    mappings = root / "mappings"
    product = mappings / "mini"
    for directory in (
        product / "contract",
        product / "operations",
        product / "tables",
        product / "catalogue",
    ):
        directory.mkdir(parents=True)
    (mappings / "pdt-mini").mkdir()
    # Every mappings directory carries PDT's names; the mini product uses none of them.
    (mappings / "pdt").mkdir()
    shutil.copy(MAPPINGS / "pdt" / "vocabulary.yaml", mappings / "pdt" / "vocabulary.yaml")
    shutil.copy(DATATRUST / "errors.yaml", product / "errors.yaml")
    shutil.copy(
        DATATRUST / "contract" / "authentication.request.json", product / "contract" / "auth.request.json"
    )
    shutil.copy(
        DATATRUST / "contract" / "authentication.response.json", product / "contract" / "auth.response.json"
    )
    items = {"type": "object", "properties": {"code": {"type": "string"}, "kind": {"type": "string"}}}
    answer = {"type": "object", "properties": {"codes": {"type": "array", "items": items}}}
    (mappings / "pdt-mini" / "answer.json").write_text(json.dumps(answer), encoding="utf-8")
    legacy_items = {**items, "required": ["code"]}
    legacy = {"type": "object", "properties": {"codes": {"type": "array", "items": legacy_items}}}
    (product / "contract" / "answer.json").write_text(json.dumps(legacy), encoding="utf-8")
    (product / "product.yaml").write_text(
        """\
product: mini
title: Mini
prefixes: {prd: /mini/v1}
errors: errors.yaml
tables: tables/tables.yaml
authentication:
  path: /authentication
  evidence: sample
  schema: contract/auth.request.json
  encodings: [json]
  username: Username
  password: Password
  response:
    schema: contract/auth.response.json
    token: token
    expiry: {field: expiresInSeconds, style: seconds}
  token_lifetime: {seconds: 600, evidence: sample}
routes:
  - method: GET
    path: /codes/{id}
    operation: operations/get.yaml
    evidence: sample
    transaction_id: id
""",
        encoding="utf-8",
    )
    (product / "operations" / "get.yaml").write_text(MINI_OPERATION, encoding="utf-8")
    (product / "tables" / "tables.yaml").write_text(MINI_TABLES, encoding="utf-8")
    (product / "tables" / "codes.csv").write_text(MINI_CODES, encoding="utf-8")
    (product / "tables" / "levels.csv").write_text("level,label\n1,Low\n", encoding="utf-8")
    (product / "tables" / "legacy-codes.csv").write_text(
        "code,description\nL1,one\nL2,two\nL3,three\n", encoding="utf-8"
    )
    (product / "catalogue" / "pdt-codes.csv").write_text("code\nP1\nP2\nP3\nP4\nP5\n\n", encoding="utf-8")
    # Shadow/replay comparison rules are part of a mappings directory too.
    (mappings / "compare.yaml").write_text("operations:\n  mini.get: {}\n", encoding="utf-8")
    return mappings
