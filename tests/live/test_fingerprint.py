"""Content hashes: one per file, one per part, one version over the parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.live.fingerprint import combine, fingerprint_files, mapping_files


def _files(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "m"
    (root / "p" / "tables").mkdir(parents=True)
    files = {
        "product": root / "p" / "product.yaml",
        "table": root / "p" / "tables" / "t.csv",
        "readme": root / "README.md",
        "hidden": root / ".git" / "x.yaml",
        "compare": root / "compare.yaml",
        "pricing": root / "billing.yaml",
        "tenants": tmp_path / "tenants.yaml",
    }
    for name, path in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name, encoding="utf-8")
    return files


def _print(tmp_path: Path) -> tuple[str, dict[str, str]]:
    root = tmp_path / "m"
    found = fingerprint_files(
        mappings_dir=root,
        tenants_file=tmp_path / "tenants.yaml",
        pricing_file=root / "billing.yaml",
        compare_file=root / "compare.yaml",
    )
    return found.version, dict(found.parts)


def test_only_read_files_count_and_hidden_ones_do_not(tmp_path: Path) -> None:
    _files(tmp_path)
    names = [path.relative_to(tmp_path / "m").as_posix() for path in mapping_files(tmp_path / "m")]
    assert names == ["billing.yaml", "compare.yaml", "p/product.yaml", "p/tables/t.csv"]


@pytest.mark.parametrize(
    ("edited", "moved_part"),
    [
        ("table", "mappings"),
        ("product", "mappings"),
        ("tenants", "tenants"),
        ("pricing", "pricing"),
        ("compare", "compare"),
        ("readme", None),
        ("hidden", None),
    ],
)
def test_an_edit_moves_its_part_and_the_version(tmp_path: Path, edited: str, moved_part: str | None) -> None:
    files = _files(tmp_path)
    version, parts = _print(tmp_path)
    files[edited].write_text("changed", encoding="utf-8")
    new_version, new_parts = _print(tmp_path)
    moved = {part for part in parts if parts[part] != new_parts[part]}
    assert moved == ({moved_part} if moved_part else set())
    assert (new_version != version) == (moved_part is not None)


def test_combine_is_order_free_and_names_count() -> None:
    one = combine({"a": {"x": "1", "y": "2"}})
    assert one.version == combine({"a": {"y": "2", "x": "1"}}).version
    assert one.version != combine({"a": {"x": "2", "y": "1"}}).version
    assert one.short == one.version[:12]
