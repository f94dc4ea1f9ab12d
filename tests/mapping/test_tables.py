"""DE-PARA code tables: CSV parsing and declaration checks, each error naming file and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.errors import MappingError
from proxy.mapping.tables import TableDeclaration, load_table, parse_declarations, parse_table_csv

DECLARATION = TableDeclaration.model_validate(
    {
        "file": "insights.csv",
        "description": "test",
        "evidence": "sample",
        "key": "pdt_code",
        "columns": ["legacy_code", "type"],
        "unmapped": "drop",
        "allowed": {"type": ["Positive", "Alert", "Negative"]},
    }
)
SOURCE = "datatrust-v1/tables/insights.csv"


def test_parses_rows_and_strips_cells() -> None:
    text = "pdt_code,legacy_code,type,extra\n GER1 , DT1 ,Alert,ignored\nGER2,DT2,Positive,x\n"
    rows = parse_table_csv(text, DECLARATION, source=SOURCE)
    assert rows == {
        "GER1": {"legacy_code": "DT1", "type": "Alert"},
        "GER2": {"legacy_code": "DT2", "type": "Positive"},
    }


def test_header_order_does_not_matter() -> None:
    rows = parse_table_csv("type,pdt_code,legacy_code\nAlert,GER1,DT1\n", DECLARATION, source=SOURCE)
    assert rows == {"GER1": {"legacy_code": "DT1", "type": "Alert"}}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "pdt_code,legacy,type\nGER1,DT1,Alert\n",
            r"header lacks columns \['legacy_code'\]",
            id="column-typo",
        ),
        pytest.param(
            "legacy_code,type\nDT1,Alert\n", r"header lacks columns \['pdt_code'\]", id="no-key-column"
        ),
        pytest.param("", "header lacks columns", id="empty-file"),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1,Alert\nGER1,DT9,Alert\n",
            "line 3: key 'GER1' appears twice",
            id="duplicate-key",
        ),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1,Alert\n  GER1 ,DT9,Alert\n",
            "line 3: key 'GER1' appears twice",
            id="duplicate-key-after-strip",
        ),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1,Alert\n,DT2,Alert\n",
            "line 3: empty key column 'pdt_code'",
            id="empty-key",
        ),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1,Alert\n   ,DT2,Alert\n",
            "line 3: empty key column",
            id="blank-key",
        ),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1,Alerta\n",
            r"line 2: type='Alerta' is not one of \['Positive', 'Alert', 'Negative'\] \(key 'GER1'\)",
            id="disallowed-value",
        ),
        pytest.param(
            "pdt_code,legacy_code,type\nGER1,DT1\n",
            r"line 2: type='' is not one of",
            id="short-row-leaves-allowed-column-empty",
        ),
        pytest.param("pdt_code,legacy_code,type\n", "the table has no rows", id="header-only"),
    ],
)
def test_bad_csv(text: str, reason: str) -> None:
    with pytest.raises(MappingError, match=reason) as caught:
        parse_table_csv(text, DECLARATION, source=SOURCE)
    assert caught.value.file == SOURCE
    assert str(caught.value).startswith(f"{SOURCE}: ")


def test_load_table_names_the_file_relative_to_root(tmp_path: Path) -> None:
    directory = tmp_path / "product" / "tables"
    directory.mkdir(parents=True)
    (directory / "insights.csv").write_text(
        "\ufeffpdt_code,legacy_code,type\nGER1,DT1,Alert\n", encoding="utf-8"
    )
    table = load_table("insights", DECLARATION, directory, root=tmp_path)
    assert table.source == "product/tables/insights.csv"
    assert table.policy == "drop"
    assert table.column("legacy_code") == {"GER1": "DT1"}
    (directory / "insights.csv").write_text("pdt_code,legacy_code,type\nGER1,DT1,Bad\n", encoding="utf-8")
    with pytest.raises(MappingError, match=r"^product/tables/insights\.csv: line 2: type='Bad'"):
        load_table("insights", DECLARATION, directory, root=tmp_path)


def test_load_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"^insights\.csv: cannot read table 'insights'"):
        load_table("insights", DECLARATION, tmp_path, root=tmp_path)


def declaration(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "file": "values.csv",
        "description": "test",
        "evidence": "reconstructed",
        "key": "pdt_value",
        "columns": ["legacy"],
        "unmapped": "default",
        "default": {"legacy": "None"},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(
            declaration(default=...), "unmapped: default needs a 'default' row", id="default-policy-no-row"
        ),
        pytest.param(
            declaration(default={"other": "x"}),
            r"default row lacks columns \['legacy'\]",
            id="default-row-short",
        ),
        pytest.param(
            declaration(unmapped="drop"),
            "a 'default' row is only used with unmapped: default, not drop",
            id="default-row-with-drop",
        ),
        pytest.param(
            declaration(unmapped="ignore"),
            "unmapped: Input should be 'drop', 'pass' or 'default'",
            id="bad-policy",
        ),
        pytest.param(
            declaration(allowed={"legacyy": ["x"]}),
            r"'allowed' names columns the table does not have: \['legacyy'\]",
            id="allowed-unknown-column",
        ),
        pytest.param(
            declaration(integer_columns=["weight"]),
            r"'integer_columns' names columns the table does not have: \['weight'\]",
            id="integer-column-unknown",
        ),
        pytest.param(declaration(columns=[]), "columns: Tuple should have at least 1 item", id="no-columns"),
        pytest.param(declaration(evidence="rumour"), "evidence: Input should be", id="bad-evidence"),
        pytest.param(declaration(key=...), "key: Field required", id="no-key"),
        pytest.param(declaration(colums=["legacy"]), "colums: Extra inputs are not permitted", id="typo-key"),
    ],
)
def test_bad_declarations(body: dict[str, Any], reason: str) -> None:
    source = "datatrust-v1/tables/tables.yaml"
    with pytest.raises(MappingError, match=reason) as caught:
        parse_declarations({"tables": {"rating-values": body}}, source=source)
    assert caught.value.file == source
    assert "table 'rating-values'" in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(None, id="empty-file"),
        pytest.param({"table": {}}, id="wrong-key"),
        pytest.param([1], id="list"),
    ],
)
def test_declarations_need_a_tables_mapping(raw: object) -> None:
    with pytest.raises(MappingError, match=r"^t\.yaml: expected a top-level 'tables' mapping$"):
        parse_declarations(raw, source="t.yaml")


def test_good_declarations_parse() -> None:
    parsed = parse_declarations(
        {"tables": {"a": declaration(), "b": declaration(unmapped="pass", default=...)}}, source="t.yaml"
    )
    assert parsed["a"].default == {"legacy": "None"}
    assert parsed["b"].unmapped == "pass"
    assert parsed["b"].default is None


WEIGHTED = TableDeclaration.model_validate(
    {
        "file": "codes.csv",
        "description": "test",
        "evidence": "sample",
        "key": "pdt_code",
        "columns": ["section", "weight"],
        "unmapped": "drop",
        "integer_columns": ["weight"],
        "ignore": ["IGN1"],
    }
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(
            "pdt_code,section,weight\nA,Negative,high\n", "line 2: weight='high' is not a whole number"
        ),
        pytest.param("pdt_code,section,weight\nA,Negative,1.5\n", "weight='1.5' is not a whole number"),
        pytest.param("pdt_code,section,weight\nA,Negative,\n", "weight='' is not a whole number"),
        pytest.param("pdt_code,section,weight\nA,Negative,-\n", "weight='-' is not a whole number"),
        pytest.param(
            "pdt_code,section,weight\nIGN1,Negative,3\n",
            r"keys \['IGN1'\] have rows and are also declared 'ignore'",
        ),
    ],
)
def test_integer_columns_and_ignored_keys_are_checked(text: str, reason: str) -> None:
    with pytest.raises(MappingError, match=reason):
        parse_table_csv(text, WEIGHTED, source="ffr/tables/codes.csv")


@pytest.mark.parametrize("weight", ["0", "7", "-3", "100"])
def test_whole_numbers_pass(weight: str) -> None:
    rows = parse_table_csv(f"pdt_code,section,weight\nA,Negative,{weight}\n", WEIGHTED, source="c.csv")
    assert rows["A"]["weight"] == weight
