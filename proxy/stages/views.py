"""PDT answers reshaped into the one view the response mappings read.

Response rules read PDT's "all results" shape (``{"transaction", "scores",
"ratings", "insights"}``, plural keys, arrays), whichever calls produced it: the
modules strategy assembles it from the transaction and each module's answer, the
pack strategy from the pack's singular keys (``score.results``...). Pure functions;
the key names come from the PDT vocabulary (``mappings/pdt/vocabulary.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["view_from_modules", "view_from_pack"]


def view_from_modules(transaction: Any, modules: Mapping[str, Any]) -> dict[str, Any]:
    return {"transaction": transaction, **modules}


def view_from_pack(pack: Any, pack_keys: Mapping[str, str]) -> Any:
    """The all-results view of a pack answer; a module not ``completed`` is left out.

    Pack answers name each module in the singular and wrap its results (documented,
    tail of the example cut): "score": {"results": [...], "moduleStatus": "completed"};
    ``pack_keys`` maps those keys to the all-results ones (``PdtVocabulary.pack_keys``).

    A non-object answer is returned unchanged so that schema validation of the
    view reports it as malformed, in one place.
    """
    if not isinstance(pack, dict):
        return pack
    view: dict[str, Any] = {"transaction": pack.get("transaction")}
    for singular, plural in pack_keys.items():
        module = pack.get(singular)
        if isinstance(module, dict) and module.get("moduleStatus") == "completed":
            view[plural] = module.get("results")
    return view
