"""The migration autopilot on six simulated days, in well under a minute.

    python load/autopilot_demo.py [--days 6] [--all]

The embedded defaults (SQLite in a temporary directory, the built-in PDT and legacy
simulators, the three demo tenants) on a simulated clock: every 3 simulated hours
each tenant sends a few legacy calls through the proxy (Data Trust v1, FFR, Mobile
Trust) and the autopilot evaluates. Every tenant starts in shadow with the same
compressed plan. Half-way through the second day of its canary, demo-ffr's PDT
account starts failing (the PDT simulator's own fault middleware, the knob
``pdt-proxy simulate pdt --fault-rate`` turns), and the autopilot rolls it back.
Prints every promotion and rollback and each change of what a tenant waits for
(``--all``: every hold too), then the estate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.autopilot.estate import estate
from proxy.autopilot.evaluator import Outcome
from proxy.autopilot.status import render_status
from proxy.composition import create_app
from proxy.config import AutopilotSettings, Settings, load_settings
from proxy.mapping.catalog import load_catalog
from proxy.mapping.examples import load_example
from proxy.simulators.legacy import accounts_from_tenants, create_legacy_simulator
from proxy.simulators.middleware import LatencyAndFaults
from proxy.simulators.pdt import create_pdt_simulator
from proxy.simulators.sessions import Sessions
from proxy.tenants import demo_tenants_file, load_tenants
from proxy.upstream.seam import UpstreamTransport
from proxy.upstream.transport import build_transport

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = {"authorization": "Bearer demo-admin-token"}
DEGRADED_ACCOUNT = "demo-ffr-pdt-prd"
PLAN: dict[str, Any] = {
    "steps": [{"stage": "canary", "percent": 10}, {"stage": "canary", "percent": 50}, "pdt-fallback", "pdt"],
    "gates": {
        "min_samples": 60,
        "min_hours": 24,
        "min_distinct_days": 2,
        "min_match_rate": 0.8,
        "max_pdt_error_rate": 0.02,
        "max_fallback_rate": 0.05,
        "max_added_p99_ms": 300,
        "min_breach_samples": 10,
    },
    "hold_s": 12 * 3600,
    "window_s": 3 * 86400,
}
_FFR = load_example("ffr", "score.request")
_MT = load_example("mobile-trust", "transaction.request")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class AccountFaults:
    """The PDT simulator; once ``failing``, calls made with ``account``'s session go
    through the simulator's fault middleware (every other account is untouched)."""

    def __init__(self, app: ASGIApp, sessions: Sessions, account: str, fault_rate: float) -> None:
        self.app = app
        self.sessions = sessions
        self.account = account
        self.faulty = LatencyAndFaults(
            app, latency_ms=0.0, jitter_ms=0.0, fault_rate=fault_rate, rng=random.Random(7)
        )
        self.failing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.failing and scope["type"] == "http":
            headers = dict(scope["headers"])
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            if self.sessions.owner_of(authorization) == self.account:
                await self.faulty(scope, receive, send)
                return
        await self.app(scope, receive, send)


def cpf(rng: random.Random) -> str:
    def check(digits: list[int]) -> int:
        rest = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True)) * 10 % 11
        return 0 if rest == 10 else rest

    digits = [rng.randrange(10) for _ in range(9)]
    digits[0] = 1 + digits[0] % 9  # never all one repeated digit
    digits[1] = (digits[0] + 1) % 10
    digits.append(check(digits))
    digits.append(check(digits))
    return "".join(map(str, digits))


def settings_in(directory: Path) -> Settings:
    # Errors only: the timeline below is the demo's output (a rollback logs its alert at warning).
    settings = load_settings(environ={"PROXY_DATA_DIR": str(directory), "PROXY_LOG_LEVEL": "ERROR"})
    simulator = settings.legacy.simulator.model_copy(update={"disagreement_rate": 0.02})
    # The breaker counts real seconds, which do not pass on the simulated clock.
    breaker = settings.resilience.breaker.model_copy(
        update={"min_calls": 10**6, "consecutive_failures": 10**6}
    )
    return settings.model_copy(
        update={
            "autopilot": AutopilotSettings(enabled=False),  # ticked below, on simulated time
            "legacy": settings.legacy.model_copy(update={"simulator": simulator}),
            "resilience": settings.resilience.model_copy(update={"breaker": breaker}),
        }
    )


def transport_for(settings: Settings) -> tuple[UpstreamTransport, AccountFaults]:
    catalog = load_catalog(settings.mappings_dir)
    tenants = load_tenants(
        demo_tenants_file(), known_products=frozenset(catalog.products), simulator_only=True
    )
    accounts = {c.username: c.password for t in tenants.tenants.values() for c in t.credentials.values()}
    pdt = create_pdt_simulator(
        settings.simulator, catalogue_path=settings.mappings_dir / "pdt" / "insights.csv", accounts=accounts
    )
    faults = AccountFaults(pdt, pdt.state.simulator.sessions, DEGRADED_ACCOUNT, fault_rate=0.4)
    legacy_accounts, grants = accounts_from_tenants(tenants)
    legacy = create_legacy_simulator(
        settings.legacy.simulator, catalog=catalog, accounts=legacy_accounts, grants=grants
    )
    return build_transport(
        settings.pdt, simulator_app=faults, legacy=settings.legacy, legacy_app=legacy
    ), faults


class Traffic:
    """Legacy calls of the three demo integrations, as their clients send them."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.rng = random.Random(18)
        self.tokens: dict[str, str] = {}

    async def login(self) -> None:
        dt = await self.client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        self.tokens["demo-dt"] = dt.json()["token"]
        for tenant, secret in (("demo-ffr", "demo-ffr-secret"), ("demo-mt", "demo-mt-secret")):
            answer = await self.client.post("/v1/authenticate", json={"name": tenant, "password": secret})
            self.tokens[tenant] = answer.json()["Token"]

    async def send(self, tenant: str, count: int) -> None:
        headers = {"authorization": f"Bearer {self.tokens[tenant]}"}
        for n in range(count):
            document = cpf(self.rng)
            if tenant == "demo-dt":
                body: dict[str, Any] = {
                    "Document": document,
                    "Email": f"cliente{n}@example.com",
                    "Phone": {"AreaCode": "11", "Number": "988887777"},
                    "ZipCode": "01310-100",
                }
                await self.client.post("/products/v1/datatrust", json=body, headers=headers)
            elif tenant == "demo-ffr":
                body = {**_FFR, "Cpf": document, "OrderID": f"FINTECH_{self.rng.randrange(10**9)}"}
                await self.client.post("/v1/fintech/fraud/score", json=body, headers=headers)
            else:
                body = {**_MT, "Document": document, "BlockSmsSending": True}
                await self.client.post("/v1/mobiletrust/transaction", json=body, headers=headers)


def _day(moment: datetime) -> str:
    return f"day {(moment.date() - START.date()).days + 1} {moment:%H:%M}"


def timeline(outcomes: Iterable[Outcome], *, show_all: bool, seen: dict[str, tuple[str, ...]]) -> list[str]:
    lines = []
    for outcome in outcomes:
        verdict = outcome.verdict
        waiting = tuple(sorted(item.split(":", 1)[0] for item in verdict.missing))
        if verdict.reason.startswith("at the plan's last step"):
            waiting = ("last step",)  # watched, not waited for: printed once
        waiting = (verdict.from_stage, *waiting)
        if verdict.decision == "hold" and not show_all and seen.get(outcome.tenant) == waiting:
            continue
        seen[outcome.tenant] = waiting
        figures = outcome.figures
        if verdict.from_stage == "shadow":
            samples, hours = figures.get("samples"), figures.get("hours")
            shown = f"samples {samples}, {hours} h, match {figures.get('match_rate')}"
        else:
            shown = (
                f"requests {figures.get('requests')}, PDT errors {figures.get('pdt_error_rate')}, "
                f"fallbacks {figures.get('fallback_rate')} {figures.get('fallback_causes') or ''}".rstrip()
            )
        move = (
            f"{verdict.from_stage} -> {verdict.to_stage}"
            if verdict.decision != "hold"
            else verdict.from_stage
        )
        lines.append(f"  {outcome.tenant:<9} {verdict.decision.upper():<8} {move:<26} {shown}")
        if verdict.decision != "promote":
            lines.append(f"  {'':<9} {'':<8} {verdict.reason[:140]}")
    return lines


async def run(days: float, show_all: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="autopilot-demo-") as directory:
        settings = settings_in(Path(directory))
        clock = Clock()
        transport, faults = transport_for(settings)
        app = create_app(settings, transport=transport, clock=clock)
        # The timeline below is the demo's output; the proxy's own warnings (the PDT
        # failures injected, unmapped codes) would drown it.
        logging.disable(logging.WARNING)
        async with app.lifespan():
            runtime = app.runtime
            autopilot, shadow = runtime.autopilot, runtime.shadow
            # Both are built on every settings; optional only for runtimes built without them.
            assert autopilot is not None
            assert shadow is not None
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.demo")
            async with client:
                traffic = Traffic(client)
                await traffic.login()
                tenants = ("demo-dt", "demo-ffr", "demo-mt")
                for tenant in tenants:
                    await client.put(
                        f"/admin/tenants/{tenant}/stage", json={"stage": "shadow"}, headers=ADMIN
                    )
                    answer = await client.put(f"/admin/tenants/{tenant}/autopilot", json=PLAN, headers=ADMIN)
                    assert answer.status_code == 201, answer.text
                print(
                    f"plan for {', '.join(tenants)}: shadow -> canary:10 -> canary:50 -> pdt-fallback -> pdt"
                )
                print(
                    "gates: 60 requests, 24 h over 2 days in shadow, match >= 0.8, "
                    "PDT errors <= 2 %, hold 12 h\n"
                )
                seen: dict[str, tuple[str, ...]] = {}
                canary_since: datetime | None = None
                for _ in range(int(days * 8)):
                    for tenant in tenants:
                        await traffic.send(tenant, 8)
                    await shadow.settled()
                    clock.now += timedelta(hours=3)
                    stage = runtime.stages.current("demo-ffr", None).label
                    if stage == "canary:50" and canary_since is None:
                        canary_since = clock.now
                    if not faults.failing and canary_since and clock.now - canary_since >= timedelta(hours=6):
                        faults.failing = True
                        print(f"{_day(clock.now)}  demo-ffr's PDT account starts failing (40 % of its calls)")
                    lines = timeline(await autopilot.tick(), show_all=show_all, seen=seen)
                    if lines:
                        print(f"{_day(clock.now)}")
                        print("\n".join(lines))
                print()
                print(render_status(await estate(autopilot, runtime.tenants)))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=6.0, help="simulated days (default 6)")
    parser.add_argument("--all", action="store_true", help="print every hold too")
    args = parser.parse_args()
    started = time.perf_counter()
    code = asyncio.run(run(args.days, args.all))
    print(
        f"\n{args.days:g} simulated days in {time.perf_counter() - started:.1f} s of real time",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
