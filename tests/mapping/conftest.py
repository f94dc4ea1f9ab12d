"""Fixtures for the mapping engine tests: the shipped catalog and a writable copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.mapping.catalog import MappingCatalog

from .support import build_mini_catalog, copy_mappings, shipped_catalog


@pytest.fixture
def catalog() -> MappingCatalog:
    return shipped_catalog()


@pytest.fixture
def mappings_copy(tmp_path: Path) -> Path:
    """A copy of ``mappings/`` a test may break at will."""
    return copy_mappings(tmp_path)


@pytest.fixture
def mini_mappings(tmp_path: Path) -> Path:
    """A small one-product catalog (see support.build_mini_catalog)."""
    return build_mini_catalog(tmp_path)
