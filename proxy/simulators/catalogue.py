"""The PDT insight catalogue: the codes a simulated person's insights are drawn from.

The real catalogue (up to 437 insights) is not public, so it is data
(``mappings/pdt/insights.csv``) that an operator can replace with the official one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, TypeGuard, get_args

from proxy.errors import ConfigError

__all__ = ["ENTITIES", "CatalogueEntry", "Entity", "Relevance", "load_catalogue"]

Entity = Literal["Document", "Email", "Phone", "ZipCode", "Device"]
Relevance = Literal["Positivo", "Alerta", "Negativo"]

ENTITIES: Final[frozenset[Entity]] = frozenset(get_args(Entity))
_RELEVANCES: Final[frozenset[Relevance]] = frozenset(get_args(Relevance))
_COLUMNS: Final = ("code", "description", "type", "category", "relevance", "related_to", "evidence")


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    code: str
    description: str
    type: str
    category: str
    relevance: Relevance
    related_to: tuple[Entity, ...]
    evidence: str


def load_catalogue(path: Path) -> tuple[CatalogueEntry, ...]:
    """Read the catalogue CSV, refusing any row the simulator could not use."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != _COLUMNS:
                raise ConfigError(f"{path}: columns must be exactly {','.join(_COLUMNS)}")
            entries = tuple(_entry(path, line, row) for line, row in enumerate(reader, start=2))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the insight catalogue: {exc}") from exc
    codes = [entry.code for entry in entries]
    if len(set(codes)) != len(codes):
        raise ConfigError(f"{path}: insight codes must be unique")
    if not entries:
        raise ConfigError(f"{path}: the insight catalogue is empty")
    return entries


def _entry(path: Path, line: int, row: dict[str, str]) -> CatalogueEntry:
    relevance = row["relevance"]
    if not _is_relevance(relevance):
        raise ConfigError(f"{path}:{line}: relevance must be one of {sorted(_RELEVANCES)}")
    related = tuple(row["related_to"].split("|"))
    if not _are_entities(related):
        raise ConfigError(f"{path}:{line}: related_to must be '|'-separated names from {sorted(ENTITIES)}")
    if not row["code"]:
        raise ConfigError(f"{path}:{line}: the code is empty")
    return CatalogueEntry(
        code=row["code"],
        description=row["description"],
        type=row["type"],
        category=row["category"],
        relevance=relevance,
        related_to=related,
        evidence=row["evidence"],
    )


def _is_relevance(value: str) -> TypeGuard[Relevance]:
    return value in _RELEVANCES


def _are_entities(names: tuple[str, ...]) -> TypeGuard[tuple[Entity, ...]]:
    return all(name in ENTITIES for name in names)
