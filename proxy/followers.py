"""What follows a swap: everything derived from the set that is not re-read per request.

``follow_live_config(runtime)`` builds the runtime's ``ConfigReloader`` and
subscribes the followers to its ``LiveConfig``:

- the stage book (a removed tenant's overrides stop counting);
- the shadow runner's and the autopilot's comparison rules and the autopilot's
  defaults; new tenants' ``autopilot:`` plans are seeded as at startup;
- the built-in simulators' accounts (a demo tenant onboarded by a reload can call them);
- the verified-logins cache: a secret changed or a tenant removed must not keep
  logging in from memory.

A candidate set is checked for what the followers will derive from it too (the
tenant file's autopilot plans), so a follower never fails after the swap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from proxy.autopilot.evaluator import Autopilot
from proxy.autopilot.seed import FilePlan, file_plans, seed_plans
from proxy.autopilot.store import AutopilotStore
from proxy.autopilot_plan import parse_defaults
from proxy.config import Settings
from proxy.live.config_set import ConfigSet, LiveConfig, load_config_set
from proxy.live.reloader import ConfigReloader
from proxy.live.simulators import SimulatorAccounts
from proxy.logins import Logins
from proxy.observability.logging import get_logger
from proxy.observability.metrics import Metrics
from proxy.stages.book import StageBook
from proxy.stages.shadow import ShadowRunner
from proxy.state.store import StateStore
from proxy.upstream.seam import UpstreamTransport
from proxy.upstream.transport import HostRoutingTransport

__all__ = ["Followed", "check_candidate", "follow_live_config"]

_log = get_logger(__name__)


class Followed(Protocol):
    """The part of the runtime a reload reads and rewrites."""

    file_plans: list[FilePlan]

    @property
    def settings(self) -> Settings: ...
    @property
    def live(self) -> LiveConfig: ...
    @property
    def state(self) -> StateStore: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def stages(self) -> StageBook: ...
    @property
    def logins(self) -> Logins: ...
    @property
    def shadow(self) -> ShadowRunner | None: ...
    @property
    def autopilot(self) -> Autopilot | None: ...
    @property
    def autopilot_store(self) -> AutopilotStore | None: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


def check_candidate(settings: Settings) -> ConfigSet:
    """``load_config_set`` plus what the followers derive: refused before any swap."""
    candidate = load_config_set(settings)
    file_plans(candidate.tenants.tenants.values(), parse_defaults(candidate.compare_rules.autopilot))
    return candidate


class _Followers:
    def __init__(self, runtime: Followed) -> None:
        self._runtime = runtime
        self._seeding: set[asyncio.Task[list[str]]] = set()

    def __call__(self, old: ConfigSet, new: ConfigSet) -> None:
        runtime = self._runtime
        runtime.stages.use_tenants(new.tenants)
        runtime.logins.forget_verified()
        if runtime.shadow is not None:
            runtime.shadow.use_rules(new.compare_rules)
        defaults = parse_defaults(new.compare_rules.autopilot)
        runtime.file_plans = file_plans(new.tenants.tenants.values(), defaults)
        if runtime.autopilot is not None:
            runtime.autopilot.rules, runtime.autopilot.defaults = new.compare_rules, defaults
        self._seed(old)

    def _seed(self, old: ConfigSet) -> None:
        store = self._runtime.autopilot_store
        added = [plan for plan in self._runtime.file_plans if plan.tenant not in old.tenants.tenants]
        if store is None or not added:
            return
        # Seeding only stores plans that have none yet: an operator's plan stays.
        task = asyncio.get_running_loop().create_task(seed_plans(store, added, now=self._runtime.clock()))
        self._seeding.add(task)
        task.add_done_callback(self._seeded)

    def _seeded(self, task: asyncio.Task[list[str]]) -> None:
        self._seeding.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.warning("autopilot plans of new tenants not seeded", error=type(task.exception()).__name__)


def follow_live_config(runtime: Followed, *, transport: UpstreamTransport) -> ConfigReloader:
    """The runtime's reloader, with every follower subscribed to its live set.

    ``transport`` is the upstream transport: the built-in simulators mounted on it
    learn the accounts of tenants a reload adds."""
    settings = runtime.settings
    runtime.live.subscribe(_Followers(runtime))
    if isinstance(transport, HostRoutingTransport):
        runtime.live.subscribe(SimulatorAccounts(settings, transport.mounted_apps))
    return ConfigReloader(
        runtime.live,
        load=lambda: check_candidate(settings),
        store=runtime.state,
        metrics=runtime.metrics,
        now=runtime.clock,
    )
