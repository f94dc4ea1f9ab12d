"""``mappings/compare.yaml``: how the two answers to one legacy request are compared.

Per operation: fields to ignore (ids and timestamps differ by construction),
numeric tolerances (two models never give the same score), lists compared as sets
keyed by one field (insight lists: order is presentation, membership is meaning),
fields whose value pairs feed an agreement matrix (rating labels), and the least
number of fields a comparison must cover, so a rule set that ignores everything
shows up as "thin" rather than as a perfect match.

Every path is checked against the operation's legacy answer schema at load, and
every operation with an answer must have an entry: the comparison of an operation
is never an accident of defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from proxy.autopilot_plan import parse_defaults
from proxy.errors import MappingError
from proxy.mapping.catalog import MappingCatalog
from proxy.mapping.paths import parse_path
from proxy.mapping.schemas import CompiledSchema
from proxy.yaml_files import load_yaml

__all__ = ["COMPARE_FILE", "CompareRules", "OperationRules", "Readiness", "load_compare_rules", "path_steps"]

COMPARE_FILE = "compare.yaml"


class _OperationSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    ignore: tuple[str, ...] = ()
    tolerances: dict[str, float] = Field(default_factory=dict)
    sets: dict[str, str] = Field(default_factory=dict)
    matrices: tuple[str, ...] = ()
    min_compared: int = Field(default=1, ge=1)
    # Another operation whose answer has the same shape and the same rules.
    same_as: str | None = None


class Readiness(BaseModel):
    """The thresholds a backtest must meet before a tenant's cut-over to PDT."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_samples: int = Field(default=100, ge=1)
    # Share of compared requests whose answers agreed on every field (within tolerances).
    min_match_rate: float = Field(default=0.9, ge=0, le=1)
    # Share of score pairs within the operation's tolerance.
    min_score_agreement: float = Field(default=0.9, ge=0, le=1)
    # Share of rating pairs with the same label.
    min_rating_agreement: float = Field(default=0.85, ge=0, le=1)
    # Mean Jaccard overlap of insight (variable) sets.
    min_insight_overlap: float = Field(default=0.8, ge=0, le=1)
    # Share of requests PDT failed (5xx, timeouts) where the legacy backend answered.
    max_pdt_error_rate: float = Field(default=0.01, ge=0, le=1)
    # PDT's 95th percentile latency, in ms.
    max_pdt_p95_ms: float = Field(default=2000.0, gt=0)
    # Time coverage: hours from the window's first sample to its last, and distinct
    # UTC days with samples. A count alone is met by one burst of traffic; a verdict
    # must have seen business hours and several days (night batches, Monday peaks).
    min_hours: float = Field(default=72.0, ge=0)
    min_distinct_days: int = Field(default=3, ge=0)


class _FileSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    readiness: Readiness = Readiness()
    # The migration autopilot's defaults, checked by proxy.autopilot_plan.parse_defaults.
    autopilot: dict[str, Any] | None = None
    operations: dict[str, _OperationSpec]


@dataclass(frozen=True)
class OperationRules:
    """The compiled rules of one operation; paths use ``[]`` for "every item"."""

    operation: str
    ignore: frozenset[str]
    tolerances: Mapping[str, float]
    sets: Mapping[str, str]
    matrices: frozenset[str]
    min_compared: int
    provenance: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class CompareRules:
    source: str
    operations: Mapping[str, OperationRules]
    readiness: Readiness = field(default_factory=Readiness)
    # compare.yaml's ``autopilot:`` block as written (proxy.autopilot_plan parses it).
    autopilot: Mapping[str, Any] | None = None

    def for_operation(self, name: str) -> OperationRules:
        return self.operations[name]


def path_steps(path: str) -> tuple[str | int, ...]:
    """``ratings[].value`` → ``("ratings", 0, "value")``: the schema walk of a compare path."""
    return parse_path(path.replace("[]", "[0]"))


def _check_path(schema: CompiledSchema, path: str, *, source: str, operation: str, key: str) -> None:
    try:
        steps = path_steps(path)
    except ValueError as exc:
        raise MappingError(source, f"{operation}.{key}: {exc}") from None
    if schema.resolve(steps) is None:
        raise MappingError(source, f"{operation}.{key}: {schema.source} has no field {path!r}")


def _compile(
    name: str, spec: _OperationSpec, schema: CompiledSchema, provenance: Mapping[str, str], source: str
) -> OperationRules:
    for key, paths in (
        ("ignore", spec.ignore),
        ("tolerances", tuple(spec.tolerances)),
        ("sets", tuple(spec.sets)),
        ("matrices", spec.matrices),
    ):
        for path in paths:
            _check_path(schema, path, source=source, operation=name, key=key)
    for path, item_key in spec.sets.items():
        _check_path(schema, f"{path}[].{item_key}", source=source, operation=name, key="sets")
    for path, tolerance in spec.tolerances.items():
        if tolerance < 0:
            raise MappingError(source, f"{name}.tolerances: {path!r} has a negative tolerance")
    return OperationRules(
        name,
        frozenset(spec.ignore),
        dict(spec.tolerances),
        dict(spec.sets),
        frozenset(spec.matrices),
        spec.min_compared,
        provenance,
    )


def load_compare_rules(catalog: MappingCatalog, path: Path | None = None) -> CompareRules:
    """Load and check ``compare.yaml`` against the catalog; raises MappingError naming the reason."""
    path = path or catalog.root / COMPARE_FILE
    source = path.name if path.parent == catalog.root else str(path)
    try:
        raw: Any = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(source, f"cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise MappingError(source, f"not valid YAML: {exc}") from exc
    try:
        spec = _FileSpec.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise MappingError(source, f"{where}: {problem['msg']}") from None
    operations = {
        route.operation.name: route.operation
        for product in catalog.products.values()
        for route in product.routes
    }
    unknown = sorted(set(spec.operations) - set(operations))
    if unknown:
        raise MappingError(source, f"operations {unknown} are not declared by any product")
    missing = sorted(set(operations) - set(spec.operations))
    if missing:
        raise MappingError(source, f"no comparison rules for operations {missing}")
    compiled: dict[str, OperationRules] = {}
    for name, entry in spec.operations.items():
        effective = entry
        if entry.same_as is not None:
            if entry.same_as not in spec.operations or spec.operations[entry.same_as].same_as is not None:
                raise MappingError(
                    source, f"{name}.same_as: {entry.same_as!r} is not an entry with its own rules"
                )
            if entry.model_fields_set - {"same_as"}:
                raise MappingError(source, f"{name}: same_as takes no other keys")
            effective = spec.operations[entry.same_as]
        operation = operations[name]
        compiled[name] = _compile(
            name, effective, operation.legacy_response, operation.response_mapper.provenance, source
        )
    if spec.autopilot is not None:
        try:
            parse_defaults(spec.autopilot)
        except ValueError as exc:
            raise MappingError(source, f"autopilot: {exc}") from None
    return CompareRules(source, compiled, spec.readiness, spec.autopilot)
