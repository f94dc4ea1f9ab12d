"""import-table: an operator's spreadsheet export into a checked table, or nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.errors import MappingError
from proxy.mapping.importer import import_table, normalise_csv
from proxy.mapping.tables import TableDeclaration

from .support import MINI_CODES

RENAMES = {"pdt_code": "Código PDT", "legacy": "Código legado", "kind": "Tipo"}


def codes_file(mappings: Path) -> Path:
    return mappings / "mini" / "tables" / "codes.csv"


def write_latin1(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("latin-1"))
    return path


def test_semicolon_latin1_with_renamed_columns(mini_mappings: Path, tmp_path: Path) -> None:
    source = write_latin1(
        tmp_path / "planilha.csv",
        "Tipo;Código legado;Código PDT;Observação\n"
        "Good;L1;P1;igual\nGood;L2;P2;mudou\n;;;\nBad;L9; P9 ;nova\n",
    )
    result = import_table(source, mappings_dir=mini_mappings, product="mini", table="codes", renames=RENAMES)
    assert result.table_file == codes_file(mini_mappings)
    assert (result.rows, result.added, result.removed, result.changed) == (3, 1, 2, 1)
    assert codes_file(mini_mappings).read_text(encoding="utf-8") == (
        "pdt_code,legacy,kind\nP1,L1,Good\nP2,L2,Good\nP9,L9,Bad\n"
    )
    assert not codes_file(mini_mappings).with_name("codes.csv.importing").exists()


def test_utf8_with_bom_and_declared_names(mini_mappings: Path, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(
        "\ufeffPDT_CODE,Legacy,KIND\nP1,L1,Good\nP2,L2,Bad\nP3,L1,Good\nPX,LX,Bad\n", encoding="utf-8"
    )
    result = import_table(source, mappings_dir=mini_mappings, product="mini", table="codes", renames={})
    assert (result.rows, result.added, result.removed, result.changed) == (4, 0, 0, 0)
    assert codes_file(mini_mappings).read_text(encoding="utf-8") == MINI_CODES


def test_values_with_commas_in_a_semicolon_file(mini_mappings: Path, tmp_path: Path) -> None:
    source = write_latin1(
        tmp_path / "planilha.csv",
        "Código PDT;Código legado;Tipo\nP1;L1, antigo;Good\nP2;L2, novo;Bad\n",
    )
    import_table(source, mappings_dir=mini_mappings, product="mini", table="codes", renames=RENAMES)
    assert codes_file(mini_mappings).read_text(encoding="utf-8") == (
        'pdt_code,legacy,kind\nP1,"L1, antigo",Good\nP2,"L2, novo",Bad\n'
    )


def test_rows_breaking_allowed_values_are_refused(mini_mappings: Path, tmp_path: Path) -> None:
    before = codes_file(mini_mappings).read_bytes()
    source = write_latin1(
        tmp_path / "planilha.csv", "Código PDT;Código legado;Tipo\nP1;L1;Good\nP2;L2;Ótimo\n"
    )
    with pytest.raises(
        MappingError, match=r"line 3: kind='Ótimo' is not one of \['Good', 'Bad'\] \(key 'P2'\)"
    ) as caught:
        import_table(
            source, mappings_dir=mini_mappings, product="mini", table="codes-strict", renames=RENAMES
        )
    assert caught.value.file == str(source)
    assert codes_file(mini_mappings).read_bytes() == before


def test_old_file_restored_when_the_catalog_breaks(mini_mappings: Path, tmp_path: Path) -> None:
    # 'codes' accepts any kind, but 'codes-strict' reads the same file and does not:
    # the import passes its own table's checks and breaks the catalog.
    before = codes_file(mini_mappings).read_bytes()
    source = write_latin1(tmp_path / "planilha.csv", "Código PDT;Código legado;Tipo\nP1;L1;Ugly\n")
    with pytest.raises(MappingError, match="kind='Ugly' is not one of") as caught:
        import_table(source, mappings_dir=mini_mappings, product="mini", table="codes", renames=RENAMES)
    assert caught.value.file == "mini/tables/codes.csv"
    assert codes_file(mini_mappings).read_bytes() == before


@pytest.mark.parametrize(
    ("product", "table", "reason"),
    [
        pytest.param("maxi", "codes", "unknown product 'maxi'", id="unknown-product"),
        pytest.param("mini", "kodes", "unknown table 'kodes'", id="unknown-table"),
    ],
)
def test_unknown_product_or_table(
    mini_mappings: Path, tmp_path: Path, product: str, table: str, reason: str
) -> None:
    source = tmp_path / "x.csv"
    source.write_text("pdt_code,legacy,kind\nP1,L1,Good\n", encoding="utf-8")
    with pytest.raises(MappingError, match=reason):
        import_table(source, mappings_dir=mini_mappings, product=product, table=table, renames={})


def test_missing_source_file(mini_mappings: Path, tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        import_table(
            tmp_path / "nope.csv", mappings_dir=mini_mappings, product="mini", table="codes", renames={}
        )


DECLARATION = TableDeclaration.model_validate(
    {
        "file": "t.csv",
        "description": "t",
        "evidence": "sample",
        "key": "pdt_code",
        "columns": ["legacy"],
        "unmapped": "drop",
    }
)


@pytest.mark.parametrize(
    ("text", "renames", "reason"),
    [
        pytest.param("", {}, "the CSV is empty", id="empty"),
        pytest.param("pdt_code;other\nA;1\n", {}, "no column 'legacy' for 'legacy'", id="missing-column"),
        pytest.param(
            "code;legacy\nA;1\n",
            {"pdt_code": "Código"},
            "no column 'Código' for 'pdt_code'",
            id="rename-not-found",
        ),
        pytest.param(
            "pdt_code;x;legacy\nA;1;2\nB;1\n", {}, "line 3: 2 cells, expected at least 3", id="short-row"
        ),
    ],
)
def test_normalise_refusals(text: str, renames: dict[str, str], reason: str) -> None:
    with pytest.raises(MappingError, match=reason):
        normalise_csv(text, DECLARATION, renames)


def test_normalise_tabs_and_title_case() -> None:
    assert normalise_csv("Legacy\tPDT_Code\nx\tA\n", DECLARATION, {}) == "pdt_code,legacy\nA,x\n"
