"""What one answered legacy request leaves behind, for the after-answer observers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from proxy.http.reply import Reply
from proxy.migration_stage import Stage
from proxy.stages.dispatch import Answer, Exchange

__all__ = ["NO_TENANT", "Observer", "Outcome"]

# Before authentication there is no tenant: metrics and logs say "-".
NO_TENANT: Final = "-"


@dataclass(slots=True, kw_only=True)
class Outcome:
    """Filled in as the pipeline goes: a request refused early leaves the later fields empty."""

    request_id: str
    method: str
    template: str
    product: str
    operation: str
    client: str
    # perf_counter() when the request arrived.
    started: float
    tenant: str = NO_TENANT
    request_bytes: int = 0
    exchange: Exchange | None = None
    stage: Stage | None = None
    # The dispatcher's answer, when the request got that far.
    answer: Answer | None = None

    @property
    def stage_label(self) -> str:
        return self.answer.stage if self.answer is not None else "-"

    @property
    def side(self) -> str:
        return self.answer.side if self.answer is not None else "-"


class Observer(Protocol):
    """Told of each answered operation request after its reply is final; never awaits."""

    def observe(self, outcome: Outcome, reply: Reply, elapsed_s: float) -> None: ...
