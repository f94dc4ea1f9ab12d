"""Liveness and readiness: /healthz says the process is up, /readyz whether to send it traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from proxy.composition import create_app
from proxy.runtime import Runtime
from proxy.upstream.transport import SIMULATOR_BASE_URL
from tests.conftest import make_settings


@asynccontextmanager
async def app_and_client(tmp_path: Path) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    app = create_app(make_settings(tmp_path))
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield app.runtime, client


def open_pdt_breaker(runtime: Runtime) -> None:
    breaker = runtime.resilience.target("pdt", SIMULATOR_BASE_URL).breaker
    for _ in range(runtime.settings.resilience.breaker.consecutive_failures):
        permit = breaker.acquire()
        assert permit is not None
        breaker.record(permit, failed=True)


async def break_database(runtime: Runtime) -> None:
    await runtime.state.close()


async def nothing(runtime: Runtime) -> None:
    return None


async def pdt_down(runtime: Runtime) -> None:
    open_pdt_breaker(runtime)


@pytest.mark.parametrize(
    ("fault", "status", "checks"),
    [
        pytest.param(nothing, 200, {"config": "ok", "database": "ok"}, id="ready"),
        # An open PDT breaker is not this replica's failure: a 503 would take every
        # replica out of rotation, so no call could ever close the breaker again, and
        # the tenants that do not need PDT would lose service too.
        pytest.param(pdt_down, 200, {"config": "ok", "database": "ok"}, id="pdt open: still ready"),
        pytest.param(break_database, 503, {"config": "ok", "database": "unreachable"}, id="database gone"),
    ],
)
async def test_readiness_reports_each_check(
    tmp_path: Path, fault: Callable[[Runtime], Awaitable[None]], status: int, checks: dict[str, str]
) -> None:
    async with app_and_client(tmp_path) as (runtime, client):
        await fault(runtime)
        answer = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert answer.status_code == status
    assert answer.json()["checks"] == checks
    assert answer.json()["status"] == ("ready" if status == 200 else "not_ready")
    # Liveness does not depend on upstreams: restarting would not fix PDT.
    assert alive.status_code == 200
