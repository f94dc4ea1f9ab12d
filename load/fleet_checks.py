"""The fleet run's checks: each drives the running fleet and returns one ``Row``.

They run in order on one fleet (``load/fleet.py`` starts it): the ones that kill or
restart processes come after those that only read, and each leaves every replica
ready for the next. Figures are what was measured; the bars are in
``fleet_report``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import aiohttp
from fleet_procs import Child
from fleet_report import LedgerDiff, Row, ledger_diff, token_bucket_allowance, within
from fleet_traffic import Load, Sent, User, login, send

__all__ = [
    "Context",
    "FleetControl",
    "kill_one_under_load",
    "ledger_matches_answers",
    "pdt_outage",
    "rate_limit_fleet_wide",
    "rolling_restart",
    "stage_change_propagates",
    "token_travels",
]

STAGE_BAR_S: Final = 2.0
RATE_TOLERANCE: Final = 0.10
_STAGE_CHECK: Final = "a stage change seen by every replica within 2 s"
# How often a recovering replica is asked again after PDT returns.
RECOVERY_POLL_S: Final = 0.25


class FleetControl(Protocol):
    """What the checks need of the fleet (``load/fleet.py``'s ``Fleet``)."""

    replicas: list[Child]
    pdt: Child
    graceful_shutdown_s: float

    @property
    def base(self) -> str: ...

    @property
    def nginx(self) -> Child: ...

    def replica_url(self, index: int) -> str: ...

    async def restart_replica(self, index: int) -> float: ...

    async def restart_pdt(self) -> float: ...

    async def out_of_rotation(self, index: int) -> None: ...

    async def all_in_rotation(self) -> None: ...


@dataclass
class Context:
    fleet: FleetControl
    session: aiohttp.ClientSession
    # Role ("dt", "ffr", "mt", "stage", "limited", "pack") -> the tenant's user, logged in via nginx.
    users: dict[str, User]
    password: str
    admin_token: str
    # The ledger's records of the run: request id -> how many records carry it.
    ledger: Callable[[], Awaitable[dict[str, int]]]
    seconds: float
    rate_per_s: float
    outage_s: float
    breaker_open_s: float
    limit_per_s: float
    limit_burst: int


def _admin(context: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {context.admin_token}"}


def _pdt_tenants(context: Context) -> list[User]:
    return [context.users[role] for role in ("dt", "ffr", "mt")]


async def _under_load(
    context: Context, users: Sequence[User], action: Callable[[], Awaitable[None]]
) -> list[Sent]:
    """Steady traffic through nginx while ``action`` runs, and a little after it.

    A connection per request between the clients and nginx: a reload (the rolling
    restart's) closes the old worker's idle client connections, and a request sent
    on one as it closes is nginx's own race with keep-alive clients, not the proxy's."""
    connector = aiohttp.TCPConnector(force_close=True, limit=len(users) + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        load = Load(session, context.fleet.base, users, context.rate_per_s)
        stop = asyncio.Event()
        running = asyncio.create_task(load.run(stop))
        try:
            await action()
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            await running
    return load.sent


async def _reconcile(context: Context, sent: Sequence[Sent]) -> LedgerDiff:
    recorded = await context.ledger()
    ids = {item.request_id for item in sent}
    return ledger_diff(
        (item.request_id for item in sent if item.from_proxy),
        {request_id: count for request_id, count in recorded.items() if request_id in ids},
    )


# -- 1. tokens travel ---------------------------------------------------------------------------


async def token_travels(context: Context) -> Row:
    """A token issued by each replica, used on each of the others, for every product."""
    rng = random.Random(1)
    accepted = total = 0
    count = len(context.fleet.replicas)
    for issuer in range(count):
        for role in ("dt", "ffr", "mt"):
            user = context.users[role]
            token = await login(
                context.session,
                context.fleet.replica_url(issuer),
                user.product,
                user.tenant,
                context.password,
            )
            for verifier in range(count):
                if verifier == issuer:
                    continue
                sent = await send(
                    context.session,
                    context.fleet.replica_url(verifier),
                    User(user.tenant, user.product, token),
                    rng,
                )
                total += 1
                accepted += sent.status == 200
    return Row(
        "token",
        "a token from one replica accepted by the others",
        f"{accepted}/{total} answered 200 (3 products, each replica's token on the {count - 1} others)",
        total > 0 and accepted == total,
    )


# -- 2. stage changes reach every replica ---------------------------------------------------------


async def _stage_seen(context: Context, index: int, tenant: str, label: str, limit_s: float) -> float | None:
    started = time.monotonic()
    url = context.fleet.replica_url(index) + "/admin/tenants"
    while (elapsed := time.monotonic() - started) < limit_s:
        async with context.session.get(url, headers=_admin(context)) as answer:
            body = await answer.json(content_type=None)
        for entry in body.get("tenants", []) if isinstance(body, dict) else []:
            if entry.get("tenant") == tenant and entry.get("stage") == label:
                return elapsed
        await asyncio.sleep(0.05)
    return None


async def stage_change_propagates(context: Context) -> Row:
    """Two changes through nginx (pdt -> legacy -> pdt); each replica asked directly
    until its own view shows the new stage. Timed from the change's 200."""
    tenant = context.users["stage"].tenant
    delays: list[float | None] = []
    for label in ("legacy", "pdt"):
        async with context.session.put(
            f"{context.fleet.base}/admin/tenants/{tenant}/stage",
            json={"stage": label},
            headers={**_admin(context), "X-Admin-Actor": "fleet-run"},
        ) as answer:
            if answer.status != 200:
                return Row("stage", _STAGE_CHECK, f"PUT answered {answer.status}", False)
        delays += await asyncio.gather(
            *(
                _stage_seen(context, index, tenant, label, STAGE_BAR_S * 5)
                for index in range(len(context.fleet.replicas))
            )
        )
    seen = [delay for delay in delays if delay is not None]
    worst = max(seen) if seen else float("nan")
    figure = (
        f"slowest {worst:.2f} s, median {sorted(seen)[len(seen) // 2]:.2f} s "
        f"({len(seen)}/{len(delays)} replica views, 2 changes)"
        if seen
        else "no replica showed the change"
    )
    return Row(
        "stage",
        _STAGE_CHECK,
        figure,
        len(seen) == len(delays) and worst <= STAGE_BAR_S,
    )


# -- 3. one rate limit for the fleet ------------------------------------------------------------


async def rate_limit_fleet_wide(context: Context) -> Row:
    """Five times the tenant's rate, open loop through nginx: the three replicas
    together must admit what one token bucket would."""
    user = context.users["limited"]
    rng = random.Random(3)
    offered = context.limit_per_s * 5
    seconds = max(2.0, context.seconds / 2)
    total = int(offered * seconds)
    start = time.monotonic() + 0.05
    tasks = []
    for index in range(total):
        delay = start + index / offered - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(context.session, context.fleet.base, user, rng)))
    sent = await asyncio.gather(*tasks)
    window = max(item.started for item in sent) - min(item.started for item in sent)
    statuses = Counter(item.status for item in sent)
    admitted = statuses[200]
    expected = token_bucket_allowance(context.limit_per_s, context.limit_burst, window)
    return Row(
        "rate_limit",
        "a tenant's rate limit held fleet-wide (+-10%)",
        f"{admitted}/{total} admitted in {window:.1f} s at {offered:.0f}/s; "
        f"one bucket ({context.limit_per_s:.0f}/s, burst {context.limit_burst}) admits {expected:.0f}",
        within(admitted, expected, RATE_TOLERANCE) and admitted + statuses[429] == total,
    )


# -- 4. the ledger bills what was answered ---------------------------------------------------------


async def ledger_matches_answers(context: Context) -> Row:
    """All three products through nginx for ``seconds``; then every answer's request
    id looked up in the shared ledger."""

    async def wait() -> None:
        await asyncio.sleep(context.seconds)

    sent = await _under_load(context, _pdt_tenants(context), wait)
    diff = await _reconcile(context, sent)
    statuses = Counter(item.status for item in sent if item.from_proxy)
    shown = ", ".join(
        f"{status}: {count}" for status, count in sorted(statuses.items(), key=lambda kv: str(kv[0]))
    )
    return Row(
        "ledger",
        "ledger total = answered transactions, exactly",
        f"{diff.answered} answered ({shown}), {diff.recorded} records; "
        f"missing {diff.missing}, extra {diff.extra}, twice {diff.duplicated}",
        diff.answered > 0 and diff.exact and diff.recorded == diff.answered,
    )


# -- 5. kill -9 --------------------------------------------------------------------------------------


async def kill_one_under_load(context: Context) -> Row:
    """SIGKILL one replica a third of the way into a load phase; afterwards, every
    answered request must be in the ledger, and no request sent after the kill may
    fail (nginx routes around the dead replica)."""
    fleet = context.fleet
    dead_at = 0.0

    async def kill() -> None:
        nonlocal dead_at
        await asyncio.sleep(context.seconds / 3)
        fleet.replicas[0].signal(signal.SIGKILL)
        await asyncio.to_thread(fleet.replicas[0].wait, 10.0)
        # From here on nothing can reach the dead replica's process: a request sent
        # earlier may have been in its hands (or its socket's backlog) and is lost
        # with it, one sent later must be routed around it.
        dead_at = time.monotonic()
        await asyncio.sleep(context.seconds * 2 / 3)

    sent = await _under_load(context, _pdt_tenants(context), kill)
    diff = await _reconcile(context, sent)
    in_flight = [item for item in sent if item.failed and item.started <= dead_at]
    after = [item for item in sent if item.started > dead_at]
    failed_after = sum(item.failed for item in after)
    await fleet.restart_replica(0)
    return Row(
        "kill",
        "kill -9 of a replica under load: no record lost, routed around",
        f"{diff.answered} answered, {diff.missing} not in the ledger; {len(in_flight)} in flight lost; "
        f"{failed_after}/{len(after)} sent after the kill failed",
        diff.nothing_lost and failed_after == 0 and len(after) > 0,
    )


# -- 6. rolling restart ------------------------------------------------------------------------------


async def rolling_restart(context: Context) -> Row:
    """Each replica in turn, under load, as a Kubernetes rolling update does it: out
    of the load balancer's rotation, SIGTERM (in-flight requests finish, the ledger
    commits), started again, ready, back in rotation."""
    fleet = context.fleet
    took: list[float] = []

    async def roll() -> None:
        await asyncio.sleep(0.5)
        for index in range(len(fleet.replicas)):
            started = time.monotonic()
            await fleet.out_of_rotation(index)
            fleet.replicas[index].signal(signal.SIGTERM)
            code = await asyncio.to_thread(fleet.replicas[index].wait, fleet.graceful_shutdown_s + 10)
            if code is None:
                raise RuntimeError(f"replica {index} did not stop on SIGTERM")
            await fleet.restart_replica(index)
            await fleet.all_in_rotation()
            took.append(time.monotonic() - started)

    sent = await _under_load(context, _pdt_tenants(context), roll)
    diff = await _reconcile(context, sent)
    failed = [item for item in sent if item.failed]
    statuses = Counter(item.status for item in failed)
    detail = f" ({', '.join(f'{s}: {n}' for s, n in statuses.items())})" if failed else ""
    return Row(
        "rolling_restart",
        "rolling restart (SIGTERM one by one) fails no request",
        f"{len(sent)} requests, {len(failed)} failed{detail}, {diff.missing} not in the ledger; "
        f"{len(took)} replicas, {max(took, default=0):.1f} s each at most",
        len(took) == len(fleet.replicas) and not failed and diff.exact,
    )


# -- 7. PDT outage -------------------------------------------------------------------------------------


async def _metric_total(context: Context, url: str, name: str, labels: Sequence[str]) -> float:
    # /metrics on the public port is a viewer's to read: the admin token is one.
    async with context.session.get(url + "/metrics", headers=_admin(context)) as answer:
        text = await answer.text()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(label in line for label in labels):
            total += float(line.rpartition(" ")[2])
    return total


async def _readiness_watch(context: Context, stop: asyncio.Event) -> Counter[int | None]:
    """Every replica's /readyz every half second until ``stop``: what a Kubernetes
    readiness probe would have seen."""
    seen: Counter[int | None] = Counter()
    while not stop.is_set():
        for index in range(len(context.fleet.replicas)):
            try:
                async with context.session.get(
                    context.fleet.replica_url(index) + "/readyz", timeout=aiohttp.ClientTimeout(total=2)
                ) as answer:
                    seen[answer.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                seen[None] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
    return seen


async def _first_answer(
    context: Context, index: int, user: User, back_at: float, limit_s: float
) -> float | None:
    rng = random.Random(index)
    while time.monotonic() - back_at < limit_s:
        sent = await send(context.session, context.fleet.replica_url(index), user, rng, timeout_s=5)
        if sent.status == 200:
            return sent.finished - back_at
        await asyncio.sleep(RECOVERY_POLL_S)
    return None


async def pdt_outage(context: Context, pdt_host: str) -> Row:
    """The PDT simulator process stopped for ``outage_s`` under load (so every
    replica's breaker opens), then started again on its port. Readiness is watched
    throughout; once PDT is back the load stops, and each replica is asked for a PDT
    tenant's transaction until it answers 200."""
    fleet = context.fleet
    urls = [fleet.replica_url(index) for index in range(len(fleet.replicas))]
    labels = (f'host="{pdt_host}"', 'state="open"')
    opened_before = [
        await _metric_total(context, url, "pdt_proxy_circuit_breaker_transitions_total", labels)
        for url in urls
    ]
    watching = asyncio.Event()
    watch = asyncio.create_task(_readiness_watch(context, watching))
    back_at = 0.0

    async def outage() -> None:
        nonlocal back_at
        await asyncio.sleep(0.5)
        fleet.pdt.stop(timeout_s=5)
        await asyncio.sleep(context.outage_s)
        await fleet.restart_pdt()
        back_at = time.monotonic()

    try:
        await _under_load(context, _pdt_tenants(context), outage)
        limit = context.breaker_open_s + 10
        user = context.users["dt"]
        recovered = await asyncio.gather(
            *(_first_answer(context, index, user, back_at, limit) for index in range(len(urls)))
        )
        # Readiness keeps being watched for one more open period: a breaker that only
        # closes on traffic would still be open on a replica nobody sent to.
        await asyncio.sleep(max(0.0, back_at + context.breaker_open_s + 1 - time.monotonic()))
    finally:
        watching.set()
        readiness = await watch
    opened = [
        await _metric_total(context, url, "pdt_proxy_circuit_breaker_transitions_total", labels) - before
        for url, before in zip(urls, opened_before, strict=True)
    ]
    polls = sum(readiness.values())
    not_ready = polls - readiness[200]
    times = [value for value in recovered if value is not None]
    worst = max(times) if len(times) == len(recovered) else float("inf")
    bar = context.breaker_open_s + RECOVERY_POLL_S * 2
    return Row(
        "pdt_outage",
        f"{context.outage_s:.0f} s PDT outage: replicas ready, PDT back within the open time",
        f"/readyz not 200 in {not_ready}/{polls} polls; breaker opened on "
        f"{sum(1 for count in opened if count > 0)}/{len(opened)}; PDT tenants answered "
        + (f"{worst:.1f} s after PDT's return" if times and worst != float("inf") else "on no replica")
        + f" (open {context.breaker_open_s:.0f} s)",
        not_ready == 0 and all(count > 0 for count in opened) and worst <= bar,
    )
