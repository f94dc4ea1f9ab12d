"""What a limit asks of a counter store, whatever holds the counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Buckets", "Rate"]


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's shape: ``per_s`` tokens a second, at most ``burst`` saved up."""

    per_s: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_s <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_s > 0 and burst >= 1")


class Buckets(Protocol):
    """Token buckets by key, each made full on first use.

    ``take`` answers 0.0 when the key's bucket had a token (and spends ``cost`` of
    them: 1, or 0 to only ask), else the seconds until one is available (nothing
    spent). A key names its limit's kind before a colon (``tenant:acme``): the part
    metrics may show.
    """

    async def take(self, key: str, rate: Rate, cost: int = 1) -> float: ...

    async def aclose(self) -> None: ...
