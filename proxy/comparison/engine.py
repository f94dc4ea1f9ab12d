"""Compare a legacy answer with the translated PDT answer to the same request. Pure.

Walks both documents together. Objects compare key by key, plain lists item by
item, lists declared as sets by their key field (an item only on one side is a
``missing`` or ``extra`` difference; items on both sides compare field by field).
Scalars compare exactly, or within a declared tolerance. Every scalar, every set
member and every one-sided key counts as one compared field, so a comparison that
covered little is visible as such (``thin``).

Every difference names the mapping rule that produced the field (the response
mapper's provenance, nearest ancestor first) and carries both values masked by
``proxy.privacy``: a difference is stored and shown, so it must hold no CPF,
e-mail, phone or name in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from proxy.comparison.rules import OperationRules
from proxy.privacy import mask_value

__all__ = ["Comparison", "Difference", "SetOverlap", "compare_answers"]

DifferenceKind = Literal["status", "value", "tolerance", "missing", "extra"]
STATUS_FIELD = "$status"


@dataclass(frozen=True, slots=True)
class Difference:
    """One field where the answers disagree; ``missing`` = only legacy has it, ``extra`` = only PDT."""

    field: str
    kind: DifferenceKind
    rule: str | None
    legacy: Any = None
    pdt: Any = None
    delta: float | None = None
    item: str | None = None


@dataclass(frozen=True, slots=True)
class SetOverlap:
    both: int
    legacy_only: int
    pdt_only: int

    @property
    def jaccard(self) -> float:
        union = self.both + self.legacy_only + self.pdt_only
        return 1.0 if union == 0 else self.both / union


@dataclass(frozen=True)
class Comparison:
    operation: str
    compared: int
    differences: tuple[Difference, ...]
    # Declared numeric fields: (legacy, pdt) as answered, for score agreement.
    numeric: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Declared sets: how the two memberships overlap, for insight overlap.
    sets: dict[str, SetOverlap] = field(default_factory=dict)
    # Declared matrix fields: (legacy, pdt) label pairs, for rating agreement.
    pairs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    min_compared: int = 1
    # How many times each field path was compared (its differences are in ``differences``).
    fields: dict[str, int] = field(default_factory=dict)

    @property
    def matched(self) -> bool:
        return not self.differences

    @property
    def thin(self) -> bool:
        return self.compared < self.min_compared


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _leaf_name(path: str) -> str:
    return path.replace("[]", "").rsplit(".", 1)[-1]


def _masked(path: str, value: Any) -> Any:
    return mask_value(_leaf_name(path), value)


class _Walk:
    def __init__(self, rules: OperationRules) -> None:
        self.rules = rules
        self.compared = 0
        self.differences: list[Difference] = []
        self.numeric: dict[str, tuple[float, float]] = {}
        self.sets: dict[str, SetOverlap] = {}
        self.pairs: dict[str, list[tuple[str, str]]] = {}
        self.fields: dict[str, int] = {}

    def count(self, path: str) -> None:
        self.compared += 1
        self.fields[path] = self.fields.get(path, 0) + 1

    def rule_for(self, path: str) -> str | None:
        provenance = self.rules.provenance
        candidate = path
        while candidate:
            if candidate in provenance:
                return provenance[candidate]
            if candidate.endswith("[]"):
                candidate = candidate[:-2]
            elif "." in candidate:
                candidate = candidate.rsplit(".", 1)[0]
            else:
                return None
        return None

    def differ(self, path: str, kind: DifferenceKind, legacy: Any, pdt: Any, **extra: Any) -> None:
        self.differences.append(
            Difference(path, kind, self.rule_for(path), _masked(path, legacy), _masked(path, pdt), **extra)
        )

    def one_sided(self, path: str, legacy: Any, pdt: Any, *, item: str | None = None) -> None:
        self.count(path)
        kind: DifferenceKind = "missing" if pdt is _ABSENT else "extra"
        self.differ(
            path,
            kind,
            None if legacy is _ABSENT else legacy,
            None if pdt is _ABSENT else pdt,
            item=item,
        )

    def walk(self, path: str, legacy: Any, pdt: Any) -> None:
        if path in self.rules.ignore:
            return
        if path in self.rules.sets and isinstance(legacy, list) and isinstance(pdt, list):
            self.compare_set(path, legacy, pdt)
        elif isinstance(legacy, dict) and isinstance(pdt, dict):
            self.compare_object(path, legacy, pdt)
        elif isinstance(legacy, list) and isinstance(pdt, list):
            self.compare_list(path, legacy, pdt)
        else:
            self.compare_scalar(path, legacy, pdt)

    def compare_object(self, path: str, legacy: dict[str, Any], pdt: dict[str, Any]) -> None:
        if not legacy and not pdt:
            self.count(path)
            return
        for key in {**legacy, **pdt}:
            child = f"{path}.{key}" if path else key
            if child in self.rules.ignore:
                continue
            if key not in pdt or key not in legacy:
                self.one_sided(child, legacy.get(key, _ABSENT), pdt.get(key, _ABSENT))
            else:
                self.walk(child, legacy[key], pdt[key])

    def compare_list(self, path: str, legacy: list[Any], pdt: list[Any]) -> None:
        if not legacy and not pdt:
            self.count(path)
            return
        child = f"{path}[]"
        for position in range(max(len(legacy), len(pdt))):
            if position >= len(pdt) or position >= len(legacy):
                left = legacy[position] if position < len(legacy) else _ABSENT
                right = pdt[position] if position < len(pdt) else _ABSENT
                self.one_sided(child, left, right)
            else:
                self.walk(child, legacy[position], pdt[position])

    def compare_set(self, path: str, legacy: list[Any], pdt: list[Any]) -> None:
        key = self.rules.sets[path]
        child = f"{path}[]"
        left = _index(legacy, key)
        right = _index(pdt, key)
        both = [member for member in left if member in right]
        self.sets[path] = SetOverlap(len(both), len(left) - len(both), len(right) - len(both))
        if not left and not right:
            self.count(path)
            return
        for member, item in left.items():
            if member not in right:
                self.one_sided(child, item, _ABSENT, item=str(_masked(key, member)))
        for member, item in right.items():
            if member not in left:
                self.one_sided(child, _ABSENT, item, item=str(_masked(key, member)))
        for member in both:
            self.count(child)  # membership itself agreed
            first_new = len(self.differences)
            rest_left = {name: value for name, value in left[member].items() if name != key}
            rest_right = {name: value for name, value in right[member].items() if name != key}
            for name in {**rest_left, **rest_right}:
                field_path = f"{child}.{name}"
                if field_path in self.rules.ignore:
                    continue
                if name not in rest_left or name not in rest_right:
                    self.one_sided(field_path, rest_left.get(name, _ABSENT), rest_right.get(name, _ABSENT))
                else:
                    self.walk(field_path, rest_left[name], rest_right[name])
            # Name the member a field difference belongs to (``CPF_EMAIL``'s value).
            label = str(_masked(key, member))
            self.differences[first_new:] = [
                replace(difference, item=label) for difference in self.differences[first_new:]
            ]

    def compare_scalar(self, path: str, legacy: Any, pdt: Any) -> None:
        self.count(path)
        tolerance = self.rules.tolerances.get(path)
        if tolerance is not None and _is_number(legacy) and _is_number(pdt):
            self.numeric[path] = (float(legacy), float(pdt))
            delta = float(pdt) - float(legacy)
            if abs(delta) > tolerance:
                self.differ(path, "tolerance", legacy, pdt, delta=delta)
            return
        if path in self.rules.matrices:
            self.pairs.setdefault(path, []).append((str(legacy), str(pdt)))
        # bool is an int in Python: True must not equal 1 across the two answers.
        if type(legacy) is not type(pdt) and not (_is_number(legacy) and _is_number(pdt)):
            self.differ(path, "value", legacy, pdt)
        elif legacy != pdt:
            gap = float(pdt) - float(legacy) if _is_number(legacy) and _is_number(pdt) else None
            self.differ(path, "value", legacy, pdt, delta=gap)


class _Absent:
    __slots__ = ()


_ABSENT: Any = _Absent()


def _index(items: list[Any], key: str) -> dict[str, dict[str, Any]]:
    """Set members by their key; a member without the key is keyed by its position."""
    indexed: dict[str, dict[str, Any]] = {}
    for position, item in enumerate(items):
        if isinstance(item, dict):
            member = str(item.get(key, f"#{position}"))
            indexed.setdefault(member, item)
        else:
            indexed.setdefault(f"#{position}", {"": item})
    return indexed


def compare_answers(
    rules: OperationRules,
    legacy_status: int,
    legacy_body: Any,
    pdt_status: int,
    pdt_body: Any,
) -> Comparison:
    """Compare the legacy backend's answer with the proxy's translated PDT answer.

    Two successful answers compare field by field; otherwise only the status codes
    are compared (error bodies are the error table's business, not the mapping's).
    """
    walk = _Walk(rules)
    legacy_ok, pdt_ok = 200 <= legacy_status < 300, 200 <= pdt_status < 300
    if legacy_ok and pdt_ok:
        if legacy_status != pdt_status:
            walk.count(STATUS_FIELD)
            walk.differ(STATUS_FIELD, "status", legacy_status, pdt_status)
        walk.walk("", legacy_body, pdt_body)
    else:
        walk.count(STATUS_FIELD)
        if legacy_status != pdt_status:
            walk.differ(STATUS_FIELD, "status", legacy_status, pdt_status)
    return Comparison(
        rules.operation,
        walk.compared,
        tuple(walk.differences),
        walk.numeric,
        walk.sets,
        walk.pairs,
        rules.min_compared,
        walk.fields,
    )
