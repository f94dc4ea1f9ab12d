"""YAML as every operator-edited file is read: safe, and in C where libyaml is present.

The mapping catalog, tenants, prices and comparison rules are parsed at startup and
again on every live reload; the pure-Python parser was most of a reload's CPU
(about 0.7 s of 0.8 s for the shipped set). libyaml's safe loader builds the same
objects (plain dicts, lists and scalars, no tags) about eight times faster; the
pure-Python one stays the fallback where PyYAML was built without it.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]

_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The document in ``text``; raises ``yaml.YAMLError`` as ``yaml.safe_load`` does."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, C or Python
