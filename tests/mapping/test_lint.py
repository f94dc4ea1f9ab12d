"""lint's DE-PARA coverage report, on a small catalog whose numbers are known."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.cli import main
from proxy.errors import MappingError
from proxy.mapping.catalog import load_catalog
from proxy.mapping.lint import TableCoverage, coverage_report, format_report, read_catalogue_column

from .support import PRODUCT, shipped_catalog


def test_coverage_numbers(mini_mappings: Path) -> None:
    report = coverage_report(load_catalog(mini_mappings))
    # Only 'codes' declares coverage; 'codes-strict' and 'levels' are not reported.
    assert report == [
        TableCoverage(
            product="mini",
            table="codes",
            rows=4,
            unmapped_policy="drop",
            pdt_codes_unreached=("P4", "P5"),
            legacy_codes_unreached=("L3",),
            dead_rows=("PX",),
        )
    ]


def test_coverage_follows_the_csv_files(mini_mappings: Path) -> None:
    tables = mini_mappings / "mini" / "tables"
    (tables / "codes.csv").write_text(
        "pdt_code,legacy,kind\nP1,L1,Good\nP2,L2,Bad\nP3,L3,Good\nP4,L1,Good\nP5,L2,Bad\n", encoding="utf-8"
    )
    (report,) = coverage_report(load_catalog(mini_mappings))
    assert (report.rows, report.pdt_codes_unreached, report.legacy_codes_unreached, report.dead_rows) == (
        5,
        (),
        (),
        (),
    )


def test_keys_only_coverage(mini_mappings: Path) -> None:
    declarations = mini_mappings / "mini" / "tables" / "tables.yaml"
    text = declarations.read_text(encoding="utf-8")
    declarations.write_text(
        text.replace("      values_from: legacy-codes.csv:code\n      value_column: legacy\n", ""),
        encoding="utf-8",
    )
    (report,) = coverage_report(load_catalog(mini_mappings))
    assert report.pdt_codes_unreached == ("P4", "P5")
    assert report.legacy_codes_unreached == ()


def test_format_report(mini_mappings: Path) -> None:
    catalog = load_catalog(mini_mappings)
    assert format_report(catalog, coverage_report(catalog)).splitlines() == [
        "mini: 1 operation, 3 field rules, 3 tables: OK",
        "",
        "mini / codes (4 rows, unmapped policy: drop)",
        "  PDT codes that reach no legacy code: 2 (P4, P5)",
        "  legacy codes no PDT code reaches: 1 (L3)",
        "  rows whose PDT code is not in the PDT catalogue: 1 (PX)",
    ]


def test_cli_lint_prints_the_report(mini_mappings: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--mappings", str(mini_mappings)]) == 0
    out = capsys.readouterr().out
    assert "mini: 1 operation, 3 field rules, 3 tables: OK" in out
    assert "rows whose PDT code is not in the PDT catalogue: 1 (PX)" in out


def test_shipped_coverage_has_no_dead_rows() -> None:
    catalog = shipped_catalog()
    report = {(entry.product, entry.table): entry for entry in coverage_report(catalog)}
    assert set(report) == {(PRODUCT, "insights"), ("ffr", "codes"), ("mobile-trust", "insights")}
    for (product, table), entry in report.items():
        assert entry.dead_rows == (), (product, table)
        assert entry.rows == len(catalog.products[product].tables[table].rows)


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        pytest.param("pdt-codes.csv", "is not 'file.csv:column'", id="no-column"),
        pytest.param(":code", "is not 'file.csv:column'", id="no-file"),
        pytest.param("../../../../outside.csv:code", "leaves the mappings directory", id="escapes-root"),
        pytest.param("missing.csv:code", "cannot read coverage catalogue missing.csv", id="missing-file"),
        pytest.param("pdt-codes.csv:kode", "no column 'kode' for coverage", id="unknown-column"),
    ],
)
def test_bad_coverage_references(mini_mappings: Path, reference: str, reason: str) -> None:
    base = mini_mappings / "mini" / "catalogue"
    with pytest.raises(MappingError, match=reason):
        read_catalogue_column(reference, base=base, root=mini_mappings.resolve())


def test_read_catalogue_column_skips_blank_values(mini_mappings: Path) -> None:
    base = mini_mappings / "mini" / "catalogue"
    codes = read_catalogue_column("pdt-codes.csv:code", base=base, root=mini_mappings.resolve())
    assert codes == frozenset({"P1", "P2", "P3", "P4", "P5"})
