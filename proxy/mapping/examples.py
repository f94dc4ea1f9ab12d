"""The legacy contracts' own example requests, kept as data beside each product.

``mappings/<product>/examples/<name>.json`` holds a request as the public
documentation (FFR) or public client code (Mobile Trust) shows it, verbatim. The
suite checks each one is accepted and answered in the documented shape; the
simulators' tests and the load scenarios start from the same bodies, so the
example exists once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from proxy.config import project_root

__all__ = ["load_example"]


def load_example(product: str, name: str, *, mappings: Path | None = None) -> dict[str, Any]:
    """A fresh copy of ``product``'s example ``name`` (callers may change it)."""
    path = (mappings or project_root() / "mappings") / product / "examples" / f"{name}.json"
    example = orjson.loads(path.read_bytes())
    if not isinstance(example, dict):
        raise ValueError(f"{path}: an example request is a JSON object")
    return example
