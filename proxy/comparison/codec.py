"""A comparison as plain JSON data and back: how shadow results and replay reports are stored.

The values inside differences are already masked (``proxy.comparison.engine``), so
what is written here holds no personal data.
"""

from __future__ import annotations

from typing import Any

from proxy.comparison.engine import Comparison, Difference, SetOverlap

__all__ = ["comparison_from_json", "comparison_to_json"]


def comparison_to_json(comparison: Comparison) -> dict[str, Any]:
    return {
        "operation": comparison.operation,
        "compared": comparison.compared,
        "min_compared": comparison.min_compared,
        "differences": [
            {
                "field": difference.field,
                "kind": difference.kind,
                "rule": difference.rule,
                "legacy": difference.legacy,
                "pdt": difference.pdt,
                "delta": difference.delta,
                "item": difference.item,
            }
            for difference in comparison.differences
        ],
        "numeric": {path: list(pair) for path, pair in comparison.numeric.items()},
        "sets": {
            path: [overlap.both, overlap.legacy_only, overlap.pdt_only]
            for path, overlap in comparison.sets.items()
        },
        "pairs": {path: [list(pair) for pair in pairs] for path, pairs in comparison.pairs.items()},
        "fields": dict(comparison.fields),
    }


def comparison_from_json(data: dict[str, Any]) -> Comparison:
    """The inverse of ``comparison_to_json``; raises KeyError/TypeError/ValueError on foreign data."""
    return Comparison(
        operation=str(data["operation"]),
        compared=int(data["compared"]),
        differences=tuple(
            Difference(
                field=str(item["field"]),
                kind=item["kind"],
                rule=item["rule"],
                legacy=item["legacy"],
                pdt=item["pdt"],
                delta=None if item["delta"] is None else float(item["delta"]),
                item=item["item"],
            )
            for item in data["differences"]
        ),
        numeric={path: (float(pair[0]), float(pair[1])) for path, pair in data["numeric"].items()},
        sets={path: SetOverlap(int(a), int(b), int(c)) for path, (a, b, c) in data["sets"].items()},
        pairs={path: [(str(a), str(b)) for a, b in pairs] for path, pairs in data["pairs"].items()},
        min_compared=int(data["min_compared"]),
        # Results stored before per-field counts existed have none.
        fields={str(path): int(count) for path, count in data.get("fields", {}).items()},
    )
