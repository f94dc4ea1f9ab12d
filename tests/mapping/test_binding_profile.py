"""The ``binding`` key of product.yaml: built into a profile, or refused naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.cli import main
from proxy.errors import MappingError
from proxy.mapping.binding_profile import STRICT
from proxy.mapping.catalog import load_catalog

from .support import shipped_catalog


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("product", "old", "new", "reason"),
    [
        pytest.param(
            "datatrust-v1",
            "profile: system-text-json",
            "profile: newtonsoft",
            "binding.profile: unknown profile 'newtonsoft' (known: json-net, system-text-json)",
            id="unknown-profile",
        ),
        pytest.param(
            "datatrust-v1",
            "conversions: [string_to_integer, string_to_number]",
            "conversions: [string_to_integer, string_to_boolean]",
            "binding.conversions: 'string_to_boolean' is not a conversion of profile 'system-text-json'",
            id="conversion-the-profile-does-not-make",
        ),
        pytest.param(
            "datatrust-v1",
            "conversions: [string_to_integer, string_to_number]",
            "conversions: [strings_to_numbers]",
            "binding.conversions: 'strings_to_numbers' is not a conversion",
            id="unknown-conversion",
        ),
        pytest.param(
            "datatrust-v1",
            "charsets: [utf-8, utf-16]",
            "charsets: [utf-8, latin-1]",
            "binding: unknown charset 'latin-1'",
            id="unknown-charset",
        ),
        pytest.param(
            "datatrust-v1",
            "unknown_charset: refuse",
            "unknown_charset: refuse\n  casing: camel",
            "binding.casing: Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            "datatrust-v1",
            "routing: {ignore_case: true, trailing_slash: true}",
            "routing: {ignore_case: true, slashes: true}",
            "binding.routing.slashes: Extra inputs are not permitted",
            id="unknown-routing-key",
        ),
        pytest.param(
            "mobile-trust",
            "    - number_to_boolean\n",
            "",
            "binding differs from ffr's, which shares authentication at /v1/authenticate",
            id="shared-authentication-binds-differently",
        ),
    ],
)
def test_a_bad_binding_names_the_file(
    mappings_copy: Path, capsys: pytest.CaptureFixture[str], product: str, old: str, new: str, reason: str
) -> None:
    _replace(mappings_copy / product / "product.yaml", old, new)
    with pytest.raises(MappingError) as refused:
        load_catalog(mappings_copy)
    assert refused.value.file == f"{product}/product.yaml"
    assert refused.value.reason.startswith(reason)
    assert main(["lint", "--mappings", str(mappings_copy)]) == 1
    assert capsys.readouterr().err.startswith(f"pdt-proxy: {product}/product.yaml: {reason}")


def test_a_product_without_binding_binds_strictly(mappings_copy: Path) -> None:
    product_file = mappings_copy / "datatrust-v1" / "product.yaml"
    text = product_file.read_text(encoding="utf-8")
    start, end = text.index("binding:\n"), text.index("authentication:\n")
    product_file.write_text(text[:start] + text[end:], encoding="utf-8")
    assert load_catalog(mappings_copy).products["datatrust-v1"].binding == STRICT


@pytest.mark.parametrize(
    ("product", "profile", "conversions", "ignore_case"),
    [
        ("datatrust-v1", "system-text-json", 2, True),
        ("ffr", "json-net", 6, True),
        ("mobile-trust", "json-net", 6, True),
    ],
)
def test_shipped_profiles(product: str, profile: str, conversions: int, ignore_case: bool) -> None:
    binding = shipped_catalog().products[product].binding
    assert (binding.name, len(binding.conversions), binding.routing.ignore_case) == (
        profile,
        conversions,
        ignore_case,
    )
