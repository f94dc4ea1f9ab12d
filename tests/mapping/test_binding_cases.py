"""The binding profiles, row by row, from ``data/binding_cases.yaml``.

Each row goes through a product's real gate (its profile's binder, then the
contract schema), so "refused" means what the legacy client gets: a type error
on the field, in the family's words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.errors import ValidationFailed
from proxy.mapping.binding import compile_binder
from proxy.mapping.operation import RequestGate
from proxy.mapping.schemas import SchemaViolation

from .support import schema_from, shipped_catalog

CASES = yaml.safe_load((Path(__file__).parent / "data" / "binding_cases.yaml").read_text(encoding="utf-8"))
# A shipped product per profile: its binding and its error table.
PRODUCT_OF = {"json-net": "ffr", "system-text-json": "datatrust-v1"}
REFUSED = "refused"


def _declared(text: str) -> dict[str, Any]:
    if "|" in text:
        return {"oneOf": [{"type": kind} for kind in text.split("|")]}
    if text.endswith("?"):
        return {"type": [text[:-1], "null"]}
    return {"type": text}


def _rows() -> list[Any]:
    rows = []
    for profile, types in CASES.items():
        for declared, cases in types.items():
            for sent, bound in cases:
                rows.append(pytest.param(profile, declared, sent, bound, id=f"{profile}-{declared}-{sent!r}"))
    return rows


def test_every_shipped_profile_has_cases() -> None:
    shipped = {product.binding.name for product in shipped_catalog().products.values()}
    assert shipped == set(CASES) == set(PRODUCT_OF)


@pytest.mark.parametrize(("profile", "declared", "sent", "bound"), _rows())
def test_binding_case(tmp_path: Path, profile: str, declared: str, sent: Any, bound: Any) -> None:
    product = shipped_catalog().products[PRODUCT_OF[profile]]
    assert product.binding.name == profile
    schema = schema_from(
        tmp_path,
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "required": ["Field"],
            "properties": {"Field": _declared(declared)},
        },
    )
    gate = RequestGate(schema, compile_binder(schema, product.binding), product.errors)
    if bound == REFUSED:
        with pytest.raises(ValidationFailed) as refused:
            gate.parse({"field": sent})
        message = product.errors.message(SchemaViolation("Field", "type", {}))
        assert {k: list(v) for k, v in refused.value.field_errors.items()} == {"Field": [message]}
    else:
        result = gate.parse({"field": sent})
        assert result == {"Field": bound}
        assert type(result["Field"]) is type(bound)
