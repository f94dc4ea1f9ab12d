"""A proxy on simulated time, its PDT simulator behind a fault switch, and traffic for it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.composition import create_app
from proxy.config import Settings
from proxy.mapping.catalog import load_catalog
from proxy.runtime import Runtime
from proxy.simulators.legacy import accounts_from_tenants, create_legacy_simulator
from proxy.simulators.middleware import LatencyAndFaults
from proxy.simulators.pdt import create_pdt_simulator
from proxy.tenants import demo_tenants_file, load_tenants
from proxy.upstream.seam import UpstreamTransport
from proxy.upstream.transport import build_transport
from tests.mapping.support import make_cpf

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = {"authorization": "Bearer demo-admin-token"}


class SimClock:
    """The time every record, override and decision is stamped with; moved by the test."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FaultSwitch:
    """The PDT simulator, or (once ``failing``) the same simulator behind its own fault
    middleware (``LatencyAndFaults``, the knob ``simulate pdt --fault-rate`` turns)."""

    def __init__(self, app: ASGIApp, fault_rate: float) -> None:
        self.healthy = app
        self.faulty = LatencyAndFaults(
            app, latency_ms=0.0, jitter_ms=0.0, fault_rate=fault_rate, rng=random.Random(7)
        )
        self.failing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await (self.faulty if self.failing else self.healthy)(scope, receive, send)


def simulated_transport(
    settings: Settings, *, fault_rate: float = 1.0
) -> tuple[UpstreamTransport, FaultSwitch]:
    """The embedded simulators as the runtime mounts them, PDT's behind a fault switch."""
    catalog = load_catalog(settings.mappings_dir)
    tenants = load_tenants(
        demo_tenants_file(), known_products=frozenset(catalog.products), simulator_only=True
    )
    accounts = {
        credential.username: credential.password
        for tenant in tenants.tenants.values()
        for credential in tenant.credentials.values()
    }
    pdt = create_pdt_simulator(
        settings.simulator, catalogue_path=settings.mappings_dir / "pdt" / "insights.csv", accounts=accounts
    )
    legacy_accounts, grants = accounts_from_tenants(tenants)
    legacy = create_legacy_simulator(
        settings.legacy.simulator, catalog=catalog, accounts=legacy_accounts, grants=grants
    )
    switch = FaultSwitch(pdt, fault_rate)
    return build_transport(
        settings.pdt, simulator_app=switch, legacy=settings.legacy, legacy_app=legacy
    ), switch


@dataclass
class SimulatedProxy:
    client: httpx.AsyncClient
    runtime: Runtime
    clock: SimClock
    switch: FaultSwitch
    headers: dict[str, str]
    sent: int = 0

    async def traffic(self, count: int) -> None:
        """``count`` Data Trust transactions from distinct people, shadow samples stored."""
        for _ in range(count):
            self.sent += 1
            answer = await self.client.post(
                "/products/v1/datatrust", json=person(self.sent), headers=self.headers
            )
            assert answer.status_code < 600
        assert self.runtime.shadow is not None
        await self.runtime.shadow.settled()

    def stage(self, tenant: str = "demo-dt") -> str:
        return self.runtime.stages.current(tenant, None).label


def person(n: int) -> dict[str, Any]:
    return {
        "Document": make_cpf(f"{100000000 + n:09d}"),
        "Email": f"p{n}@example.com",
        "Phone": {"AreaCode": "11", "Number": "988887777"},
        "ZipCode": "01310-100",
    }


@asynccontextmanager
async def simulated_proxy(settings: Settings, *, fault_rate: float = 1.0) -> AsyncIterator[SimulatedProxy]:
    clock = SimClock()
    transport, switch = simulated_transport(settings, fault_rate=fault_rate)
    app = create_app(settings, transport=transport, clock=clock)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy.test") as client,
    ):
        login = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        headers = {"authorization": f"Bearer {login.json()['token']}"}
        yield SimulatedProxy(client, app.runtime, clock, switch, headers)
