"""Per-tenant rate limits: the token bucket, and the family's 429 through the whole app."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import RateLimitSettings, ServerSettings
from proxy.edge.rate_limit import TenantRateLimiter, TokenBucket
from proxy.errors import RateLimited
from tests.conftest import ProxyFactory, make_settings
from tests.upstream.support import FakeClock


@pytest.mark.parametrize(
    ("rate", "burst", "steps", "expected"),
    [
        pytest.param(1.0, 2, [0, 0, 0], [0.0, 0.0, 1.0], id="burst then wait a whole token"),
        pytest.param(10.0, 1, [0, 0.05, 0.05], [0.0, 0.05, 0.0], id="refills at the rate"),
        pytest.param(2.0, 1, [0, 100, 0], [0.0, 0.0, 0.5], id="never more than the burst"),
    ],
)
def test_the_bucket_answers_how_long_to_wait(
    rate: float, burst: int, steps: list[float], expected: list[float]
) -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock=clock)
    waits = []
    for step in steps:
        clock.advance(step)
        waits.append(bucket.take())
    assert waits == pytest.approx(expected)


def test_each_tenant_has_its_own_bucket_and_may_override_the_default() -> None:
    limiter = TenantRateLimiter(RateLimitSettings(requests_per_s=1, burst=1), clock=FakeClock())
    limiter.check("acme")
    with pytest.raises(RateLimited) as refused:
        limiter.check("acme")
    assert refused.value.retry_after_s == pytest.approx(1.0)
    limiter.check("globex")  # unaffected by acme
    big = RateLimitSettings(requests_per_s=1, burst=3)
    for _ in range(3):
        limiter.check("initech", big)
    with pytest.raises(RateLimited):
        limiter.check("initech", big)


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
        metrics = (await client.get("/metrics")).text
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
