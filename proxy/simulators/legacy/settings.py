"""The legacy simulator's settings: one frozen model, every default with its reason.

Kept in this package so the main ``Settings`` can embed it as one field
(``legacy_simulator: LegacySimulatorSettings = LegacySimulatorSettings()``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LegacySimulatorSettings"]


class LegacySimulatorSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Share of people whose legacy answer differs a little from what PDT says about
    # them. Two scoring engines never agree on everyone; one person in ten keeps the
    # backtest report honest without drowning the agreement it is meant to show.
    disagreement_rate: float = Field(default=0.1, ge=0, le=1)
    # Key of the hash that picks who disagrees and how. Changing it picks other
    # people; the same key always picks the same ones (no randomness per call).
    disagreement_key: str = Field(default="pdt-proxy/simulator/legacy-disagreement/v1", min_length=1)
    # How far a disagreeing score moves (whole points, either way): "a little".
    max_score_shift: int = Field(default=5, ge=1, le=20)

    # Zero latency and no faults by default, as the PDT simulator: a laptop run feels instant.
    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    # Share of legacy calls answered with the family's 503 body.
    fault_rate: float = Field(default=0.0, ge=0, le=1)
    # Share of legacy calls held for ``timeout_ms`` and then answered with the
    # family's 504 body: long enough for a caller's own timeout to fire first.
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    timeout_ms: float = Field(default=30_000.0, ge=0)
    # Fixes the latency jitter and the fault draws, so a benchmark replays the same run.
    seed: int | None = None

    # Legacy clients reuse a token until it expires; one hour, as the legacy APIs.
    token_ttl_s: int = Field(default=3600, ge=1)
    # Lifetime of a Data Trust 2FA code and of Mobile Trust's SMS; five minutes is
    # the usual for SMS codes (and the PDT simulator's).
    code_ttl_s: float = Field(default=300.0, gt=0)
    # When the end customer answers Mobile Trust's SMS, if they do at all.
    sms_reply_after_s: float = Field(default=30.0, ge=0)
    # Enough for a long benchmark's working set; a transaction costs about a KiB.
    max_transactions: int = Field(default=100_000, ge=1)
    # The proxy's own limits (proxy.config.ServerSettings): same 413 and 400 answers.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_json_depth: int = Field(default=16, ge=4)
