"""Per-tenant rate limits: a bucket per tenant, the family's 429 through the whole app, and
the same limit shared by two apps (two replicas) through Redis."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.config import RateLimitSettings, RedisSettings, SecuritySettings, ServerSettings
from proxy.edge.rate_limit import TenantRateLimiter
from proxy.errors import RateLimited
from proxy.limits import LocalBuckets
from tests.conftest import ProxyFactory, make_settings
from tests.limits.support import REDIS_URL, closed_port_url, needs_redis, unique_prefix
from tests.upstream.support import FakeClock

# /metrics on the public port is a viewer's to read; the demo admin token is one.
VIEWER = {"Authorization": "Bearer demo-admin-token"}


async def test_each_tenant_has_its_own_bucket_and_may_override_the_default() -> None:
    limiter = TenantRateLimiter(RateLimitSettings(requests_per_s=1, burst=1), LocalBuckets(clock=FakeClock()))
    await limiter.check("acme")
    with pytest.raises(RateLimited) as refused:
        await limiter.check("acme")
    assert refused.value.retry_after_s == pytest.approx(1.0)
    await limiter.check("globex")  # unaffected by acme
    big = RateLimitSettings(requests_per_s=1, burst=3)
    for _ in range(3):
        await limiter.check("initech", big)
    with pytest.raises(RateLimited):
        await limiter.check("initech", big)


@pytest.mark.parametrize(
    ("login", "call", "body", "limited"),
    [
        pytest.param(
            ("/products/v1/authentication", {"Username": "demo-dt", "Password": "demo-dt-secret"}, "token"),
            "/products/v1/datatrust",
            {"Document": "12345678909", "Email": "a@example.com"},
            {"message": "Too many requests. Try again later."},
            id="datatrust-v1",
        ),
        pytest.param(
            ("/v1/authenticate", {"name": "demo-ffr", "password": "demo-ffr-secret"}, "Token"),
            "/v1/fintech/fraud/score",
            {"OrderID": "o-1", "Cpf": "12345678909"},
            {"Message": "Too many requests. Try again later."},
            id="ffr",
        ),
    ],
)
async def test_a_tenant_over_its_rate_gets_the_family_429(
    tmp_path: Path,
    proxy_factory: ProxyFactory,
    login: tuple[str, dict[str, str], str],
    call: str,
    body: dict[str, str],
    limited: dict[str, str],
) -> None:
    server = ServerSettings(tenant_rate_limit=RateLimitSettings(requests_per_s=0.001, burst=2))
    async with proxy_factory(make_settings(tmp_path, server=server)) as client:
        path, credentials, token_field = login
        token = (await client.post(path, json=credentials)).json()[token_field]
        headers = {"Authorization": f"Bearer {token}"}
        answers = [await client.post(call, json=body, headers=headers) for _ in range(3)]
        metrics = (await client.get("/metrics", headers=VIEWER)).text
    # The burst passes (answered on its merits), the next one is refused.
    assert all(answer.status_code != 429 for answer in answers[:2])
    refused = answers[2]
    assert refused.status_code == 429
    assert refused.json() == limited
    assert int(refused.headers["retry-after"]) >= 1
    shed = [line for line in metrics.splitlines() if line.startswith("pdt_proxy_requests_shed_total{")]
    assert len(shed) == 1
    assert 'reason="rate_limited"' in shed[0]
    assert shed[0].endswith(" 1.0")


async def test_logins_are_not_rate_limited_by_the_operation_bucket(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    server = ServerSettings(tenant_rate_limit=RateLimitSettings(requests_per_s=0.001, burst=1))
    async with proxy_factory(make_settings(tmp_path, server=server)) as client:
        statuses = [
            (
                await client.post(
                    "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
                )
            ).status_code
            for _ in range(2)
        ]
    assert statuses == [200, 200]


def _shed(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith("pdt_proxy_requests_shed_total{")]


async def _dt_token(client: httpx.AsyncClient) -> dict[str, str]:
    login = {"Username": "demo-dt", "Password": "demo-dt-secret"}
    token = (await client.post("/products/v1/authentication", json=login)).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@needs_redis
async def test_two_replicas_share_a_tenant_bucket_through_redis(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    server = ServerSettings(tenant_rate_limit=RateLimitSettings(requests_per_s=0.001, burst=3))
    redis = RedisSettings(url=REDIS_URL, key_prefix=unique_prefix())
    # One token key, as replicas must share (a token from one is honoured by the other).
    shared: dict[str, Any] = {
        "server": server,
        "redis": redis,
        "security": SecuritySettings(token_key=secrets.token_hex(32)),
    }
    body = {"Document": "12345678909", "Email": "a@example.com"}
    async with (
        proxy_factory(make_settings(tmp_path / "a", **shared)) as one,
        proxy_factory(make_settings(tmp_path / "b", **shared)) as two,
    ):
        headers = await _dt_token(one)
        statuses = [
            (await replica.post("/products/v1/datatrust", json=body, headers=headers)).status_code
            for replica in (one, two, one, two)
        ]
    # Three between them, not three each.
    assert [status == 429 for status in statuses] == [False, False, False, True]


async def test_with_redis_unreachable_the_app_limits_per_replica_and_counts_it(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    server = ServerSettings(tenant_rate_limit=RateLimitSettings(requests_per_s=0.001, burst=2))
    redis = RedisSettings(url=closed_port_url(), timeout_ms=200)
    body = {"Document": "12345678909", "Email": "a@example.com"}
    async with proxy_factory(make_settings(tmp_path, server=server, redis=redis)) as client:
        headers = await _dt_token(client)
        statuses = [
            (await client.post("/products/v1/datatrust", json=body, headers=headers)).status_code
            for _ in range(3)
        ]
        metrics = (await client.get("/metrics", headers=VIEWER)).text
    assert [status == 429 for status in statuses] == [False, False, True]
    assert 'pdt_proxy_limit_fallbacks_total{limit="tenant"} 3.0' in metrics
    assert len(_shed(metrics)) == 1
