"""Migration stages: which side answers a tenant's legacy call.

==============  ==========================================================  ==========
stage           answer                                                      PDT called
==============  ==========================================================  ==========
legacy          the legacy backend's, byte for byte                         no
shadow          the legacy backend's; PDT runs beside it, off the answer's  sampled
                path, and the two answers are compared (the backtest)
canary:N        PDT's for N % of end customers (sticky per document), the   N %
                legacy backend's for the rest
pdt             PDT's; the legacy backend is not called                     yes
pdt-fallback    PDT's; the legacy backend's when PDT fails (timeout, 5xx,   yes
                open breaker, unmappable answer), each fallback counted
==============  ==========================================================  ==========

Canary stickiness: an end customer's bucket is a keyed hash of the request's document
(CPF/CNPJ), so the same person always lands on the same side, and nobody can pick
a side by choosing the document without the key. A request without a document
(reads by transaction id) goes by its transaction id instead.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

__all__ = ["STAGE_NAMES", "Stage", "StageName", "canary_bucket"]

StageName = Literal["legacy", "shadow", "canary", "pdt", "pdt-fallback"]
STAGE_NAMES: Final = frozenset(get_args(StageName))
# Stages whose answers (or some of them) come from the legacy backend.
_NEEDS_LEGACY: Final = frozenset({"legacy", "shadow", "canary", "pdt-fallback"})


@dataclass(frozen=True, slots=True)
class Stage:
    name: StageName
    percent: int = 0

    def __post_init__(self) -> None:
        if self.name not in STAGE_NAMES:
            raise ValueError(f"unknown stage {self.name!r} (stages: {sorted(STAGE_NAMES)})")
        if self.name == "canary":
            if (
                isinstance(self.percent, bool)
                or not isinstance(self.percent, int)
                or not 0 <= self.percent <= 100
            ):
                raise ValueError("a canary stage takes a whole percent from 0 to 100")
        elif self.percent != 0:
            raise ValueError(f"only the canary stage takes a percent, not {self.name!r}")

    @property
    def label(self) -> str:
        """``canary:10``, ``pdt``: how the stage is written in the tenant file and metrics."""
        return f"canary:{self.percent}" if self.name == "canary" else self.name

    @property
    def needs_legacy(self) -> bool:
        return self.name in _NEEDS_LEGACY

    @classmethod
    def parse(cls, value: Any) -> Stage:
        """From ``"pdt"``, ``"canary:10"`` or ``{"stage": "canary", "percent": 10}``."""
        if isinstance(value, Stage):
            return value
        if isinstance(value, str):
            name, _, percent = value.partition(":")
            if name == "canary":
                if not percent.isdigit():
                    raise ValueError("write a canary stage as canary:N, N a whole percent")
                return cls("canary", int(percent))
            if percent:
                raise ValueError(f"only the canary stage takes a percent, not {name!r}")
            return cls(name)  # type: ignore[arg-type]
        if isinstance(value, dict):
            unknown = set(value) - {"stage", "percent"}
            if unknown or not isinstance(value.get("stage"), str):
                raise ValueError('a stage is {"stage": NAME} or {"stage": "canary", "percent": N}')
            if value["stage"] == "canary" and "percent" not in value:
                raise ValueError('a canary stage needs its percent: {"stage": "canary", "percent": N}')
            return cls(value["stage"], value.get("percent", 0))
        raise ValueError(f"a stage is a name or an object, not {type(value).__name__}")


def canary_bucket(key: bytes, tenant: str, customer: str) -> int:
    """0..99: where ``customer`` (a document, or a transaction id) falls for ``tenant``'s canary."""
    digest = hmac.new(key, f"{tenant}\x00{customer}".encode(), hashlib.blake2b).digest()
    return int.from_bytes(digest[:8], "big") % 100
