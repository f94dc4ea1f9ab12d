"""proxy.privacy.fields: the one table of personal fields, and the contracts agree with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from proxy.privacy.fields import FIELD_KINDS, PERSONAL_FIELDS, FieldKind, field_kind, normalise

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

# What a contract's ``format`` says about a property, in the table's words.
FORMAT_KINDS: dict[str, FieldKind] = {"cpf": "document", "cnpj": "document", "email": "email"}


def _formats(
    node: Any, schema: dict[str, Any], name: str | None, seen: set[tuple[str, str | None]]
) -> Iterator[tuple[str, str]]:
    """(property name, format) for every property of ``node`` with a personal ``format``,
    following local ``$ref``s, ``oneOf``/``if``/``then``, arrays, at any depth."""
    if isinstance(node, list):
        for item in node:
            yield from _formats(item, schema, name, seen)
        return
    if not isinstance(node, dict):
        return
    if name is not None and node.get("format") in FORMAT_KINDS:
        yield name, node["format"]
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, sub in value.items():
                yield from _formats(sub, schema, prop, seen)
        elif (
            key == "$ref" and isinstance(value, str) and value.startswith("#/") and (value, name) not in seen
        ):
            seen.add((value, name))
            target: Any = schema
            for part in value[2:].split("/"):
                target = target[part]
            yield from _formats(target, schema, name, seen)
        elif key not in ("definitions", "$defs"):  # reached through a $ref, with its name
            yield from _formats(value, schema, name, seen)


CONTRACT_FIELDS = sorted(
    {
        (f"{path.parent.parent.name}/{path.name}", prop, fmt)
        for path in MAPPINGS.glob("*/contract/*.json")
        for schema in [orjson.loads(path.read_bytes())]
        for prop, fmt in _formats(schema, schema, None, set())
    }
)


def test_the_contracts_declare_personal_formats() -> None:
    # Guards the scan below against silently finding nothing (a renamed keyword).
    assert {fmt for _, _, fmt in CONTRACT_FIELDS} >= {"cpf", "email"}


@pytest.mark.parametrize(("contract", "prop", "fmt"), CONTRACT_FIELDS)
def test_every_personal_format_in_a_contract_is_in_the_table(contract: str, prop: str, fmt: str) -> None:
    assert PERSONAL_FIELDS.get(normalise(prop)) == FORMAT_KINDS[fmt], f"{contract}: {prop} ({fmt})"


def test_the_table_uses_every_kind_and_only_normalised_names() -> None:
    assert set(PERSONAL_FIELDS.values()) == set(FIELD_KINDS)
    assert all(normalise(name) == name for name in PERSONAL_FIELDS)


KINDS: list[tuple[str, dict[str, object] | None, FieldKind | None]] = [
    # (name, the object around it, kind)
    ("Cpf", None, "document"),
    ("customer_name", None, "name"),
    ("Customer-Name", None, "name"),
    ("E_mail", None, "email"),
    ("verifiedEmail", None, None),  # a flag about an e-mail, not one
    ("AreaCode", None, None),
    ("Number", None, "phone"),  # alone: personal somewhere, so treated as personal
    ("Number", {"AreaCode": "11", "Number": "988056887"}, "phone"),
    ("Number", {"ZipCode": "06454050", "Number": "988056887"}, "phone"),
    ("Number", {"Street": "Rua A", "Number": "1500"}, None),
    ("number", {"street_name": "Rua A", "number": "1500"}, None),
    ("Street", {"Street": "Rua A", "Number": "1500"}, "address"),
    ("ZipCode", {"Street": "Rua A", "ZipCode": "06454050"}, "zipcode"),
]


@pytest.mark.parametrize(("name", "parent", "kind"), KINDS)
def test_field_kind(name: str, parent: dict[str, object] | None, kind: FieldKind | None) -> None:
    assert field_kind(name, parent) == kind
