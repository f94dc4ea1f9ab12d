"""compare.yaml: the shipped file loads; a broken one is refused naming the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from proxy.comparison.rules import load_compare_rules, path_steps
from proxy.config import project_root
from proxy.errors import MappingError
from proxy.mapping.catalog import MappingCatalog, load_catalog

MAPPINGS = project_root() / "mappings"


@pytest.fixture(scope="module")
def catalog() -> MappingCatalog:
    return load_catalog(MAPPINGS)


def test_shipped_rules_cover_every_operation(catalog: MappingCatalog) -> None:
    rules = load_compare_rules(catalog)
    operations = {route.operation.name for product in catalog.products.values() for route in product.routes}
    assert set(rules.operations) == operations
    create = rules.for_operation("datatrust.transaction.create")
    get = rules.for_operation("datatrust.transaction.get")
    assert create.tolerances == get.tolerances == {"score": 5.0}
    assert create.provenance["score"] == "dt.resp.score"
    assert rules.for_operation("ffr.score").sets["Reports.Negative"] == "Code"


def test_path_steps() -> None:
    assert path_steps("ratings[].value") == ("ratings", 0, "value")
    assert path_steps("Reports.Negative") == ("Reports", "Negative")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        pytest.param(
            "ignore: [transactionId, createdAt]",
            "ignore: [transactionID]",
            "has no field 'transactionID'",
            id="unknown-ignore",
        ),
        pytest.param(
            "tolerances: {score: 5}", "tolerances: {score: -1}", "negative tolerance", id="negative-tolerance"
        ),
        pytest.param(
            "sets: {ratings: relatedTo, insights: code}",
            "sets: {ratings: relation, insights: code}",
            r"has no field 'ratings\[\]\.relation'",
            id="unknown-set-key",
        ),
        pytest.param(
            'matrices: ["ratings[].value"]',
            'matrices: ["ratings[].valeu"]',
            r"has no field 'ratings\[\]\.valeu'",
            id="unknown-matrix",
        ),
        pytest.param(
            "  datatrust.token.send:\n    ignore: [createdAt]\n",
            "",
            r"no comparison rules for operations \['datatrust.token.send'\]",
            id="operation-missing",
        ),
        pytest.param(
            "  ffr.score:",
            "  ffr.scores:",
            r"operations \['ffr.scores'\] are not declared",
            id="operation-unknown",
        ),
        pytest.param(
            "same_as: datatrust.transaction.create",
            "same_as: datatrust.token.nope",
            "is not an entry with its own rules",
            id="same-as-unknown",
        ),
        pytest.param(
            "    same_as: mobiletrust.transaction.create\n",
            "    same_as: mobiletrust.transaction.create\n    min_compared: 2\n",
            "same_as takes no other keys",
            id="same-as-with-keys",
        ),
        pytest.param(
            "min_compared: 3", "min_compared: 0", "greater than or equal to 1", id="min-compared-zero"
        ),
        pytest.param("operations:", "operation:", "Field required", id="top-level-typo"),
    ],
)
def test_broken_rules_are_refused(
    tmp_path: Path, catalog: MappingCatalog, old: str, new: str, reason: str
) -> None:
    text = (MAPPINGS / "compare.yaml").read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "compare.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MappingError, match=reason):
        load_compare_rules(catalog, broken)


def test_missing_file_is_refused(tmp_path: Path, catalog: MappingCatalog) -> None:
    with pytest.raises(MappingError, match="cannot read"):
        load_compare_rules(catalog, tmp_path / "compare.yaml")


def test_copied_mappings_load_their_own_rules(tmp_path: Path) -> None:
    copy = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, copy)
    rules = load_compare_rules(load_catalog(copy))
    assert rules.source == "compare.yaml"
