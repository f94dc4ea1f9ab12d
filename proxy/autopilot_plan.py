"""A tenant's autopilot plan: the steps after ``shadow``, the gates each must pass, the hold.

The plan is data: ``PUT /admin/tenants/{tenant}/autopilot`` sends it, a tenant file's
``autopilot:`` block declares it, and ``mappings/compare.yaml``'s ``autopilot:``
block holds the defaults beside the readiness thresholds (a field left out of a
plan takes the default; ``profile: tech-touch`` starts from that profile instead).

A format, below everything that reads one: the comparison rules check their defaults
with it at load, the tenants and the admin API read plans, the autopilot (``proxy.autopilot``)
runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from proxy.migration_stage import Stage

__all__ = [
    "PLAN_STATUSES",
    "AutopilotDefaults",
    "Gates",
    "Plan",
    "PlanStatus",
    "Severe",
    "parse_defaults",
    "parse_plan",
]

# active: promotes and rolls back. paused: evaluates nothing. halted: a rollback
# happened; it still rolls back further on a breach but promotes only once an
# operator resumes (a canary that failed once is not retried by a timer).
PlanStatus = Literal["active", "paused", "halted"]
PLAN_STATUSES: tuple[PlanStatus, ...] = ("active", "paused", "halted")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Gates(_Model):
    """What a step must show before the next one; a live breach rolls back at once."""

    # Requests in the step (samples in shadow) before a promotion is considered.
    min_samples: int = Field(default=500, ge=1)
    # Shadow: hours between the window's first and last sample, and distinct UTC days
    # with samples: a verdict covers business hours and days, not one burst.
    min_hours: float = Field(default=72.0, ge=0)
    min_distinct_days: int = Field(default=3, ge=0)
    min_match_rate: float = Field(default=0.9, ge=0, le=1)
    max_pdt_error_rate: float = Field(default=0.01, ge=0, le=1)
    max_fallback_rate: float = Field(default=0.02, ge=0, le=1)
    # PDT's p99 minus the legacy side's p99, in ms.
    max_added_p99_ms: float = Field(default=300.0, ge=0)
    # A rate judged on fewer requests than this is noise: no rollback on 1 error of 2.
    min_breach_samples: int = Field(default=50, ge=1)


class Severe(_Model):
    """Breaches bad enough to go straight back to ``shadow`` instead of one step."""

    pdt_error_rate: float = Field(default=0.1, ge=0, le=1)
    fallback_rate: float = Field(default=0.2, ge=0, le=1)
    added_p99_ms: float = Field(default=2000.0, ge=0)


class Plan(_Model):
    product: str | None = None
    steps: tuple[Stage, ...]
    gates: Gates = Gates()
    severe: Severe = Severe()
    # Seconds a live step runs (and passes its gates) before the next one.
    hold_s: float = Field(default=86400.0, ge=0)
    # Seconds of shadow results the backtest gate looks back over.
    window_s: float = Field(default=7 * 86400.0, gt=0)

    @field_validator("steps", mode="before")
    @classmethod
    def _stages(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return tuple(Stage.parse(step) for step in value)

    @model_validator(mode="after")
    def _walk(self) -> Plan:
        if not self.steps:
            raise ValueError("steps: at least one step after shadow")
        for step in self.steps:
            if step.name in ("legacy", "shadow"):
                raise ValueError(f"steps: {step.label} is not a step after shadow")
        labels = [step.label for step in self.steps]
        if len(set(labels)) != len(labels):
            raise ValueError("steps: a stage appears twice")
        if self.steps[-1].name != "pdt":
            raise ValueError("steps: the last step is pdt (the walk's end)")
        return self

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The whole walk: ``shadow`` first, then the steps."""
        return (Stage("shadow"), *self.steps)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["steps"] = [
            {"stage": step.name, "percent": step.percent} if step.name == "canary" else {"stage": step.name}
            for step in self.steps
        ]
        return data


class AutopilotDefaults(_Model):
    """``compare.yaml``'s ``autopilot:`` block: the default plan and named profiles."""

    steps: tuple[Any, ...] = (
        {"stage": "canary", "percent": 5},
        {"stage": "canary", "percent": 25},
        {"stage": "pdt-fallback"},
        {"stage": "pdt"},
    )
    gates: Gates = Gates()
    severe: Severe = Severe()
    hold_s: float = Field(default=86400.0, ge=0)
    window_s: float = Field(default=7 * 86400.0, gt=0)
    # Seconds between two evaluations of every plan (the fleet's leader runs them).
    evaluate_every_s: float = Field(default=300.0, gt=0)
    # Days in pdt with no legacy-side answer before "legacy can be switched off".
    decommission_after_days: int = Field(default=30, ge=1)
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def base(self, profile: str | None) -> dict[str, Any]:
        """The plan fields a plan starts from: the defaults, under the profile's."""
        base: dict[str, Any] = {
            "steps": list(self.steps),
            "gates": self.gates.model_dump(),
            "severe": self.severe.model_dump(),
            "hold_s": self.hold_s,
            "window_s": self.window_s,
        }
        if profile is None:
            return base
        if profile not in self.profiles:
            raise ValueError(f"profile: unknown {profile!r} (profiles: {sorted(self.profiles)})")
        return _merge(base, self.profiles[profile])


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    # gates and severe merge key by key: a plan naming one gate keeps the others' defaults.
    merged = dict(base)
    for key, value in over.items():
        if key in ("gates", "severe") and isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _problems(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_defaults(raw: Any) -> AutopilotDefaults:
    """The ``autopilot:`` block (None: the built-in defaults); ValueError naming the problem."""
    try:
        defaults = AutopilotDefaults.model_validate(raw or {})
    except ValidationError as error:
        raise ValueError(_problems(error)) from None
    # Every profile must make a valid plan now, not when a tenant first uses it.
    for name in (None, *defaults.profiles):
        try:
            parse_plan({}, defaults, profile=name)
        except ValueError as error:
            raise ValueError(f"profiles.{name}: {error}" if name else str(error)) from None
    return defaults


def parse_plan(raw: Any, defaults: AutopilotDefaults, *, profile: str | None = None) -> Plan:
    """A plan from a request body or a tenant file block; ValueError naming the problem."""
    if not isinstance(raw, Mapping):
        raise ValueError('a plan is an object such as {"steps": [...], "gates": {...}, "hold_s": 86400}')
    body = dict(raw)
    chosen = body.pop("profile", profile)
    if chosen is not None and not isinstance(chosen, str):
        raise ValueError("profile: a profile name")
    base = defaults.base(chosen)
    try:
        return Plan.model_validate(_merge(base, body))
    except ValidationError as error:
        raise ValueError(_problems(error)) from None
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from None
