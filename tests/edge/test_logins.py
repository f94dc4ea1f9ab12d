"""The legacy login endpoints: repeated valid logins are cheap, failed ones are throttled
with the family's 429, and every outcome is counted without personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.config import LoginSettings, LoginThrottleSettings
from tests.conftest import ProxyFactory, make_settings

# /metrics on the public port is a viewer's to read; the demo admin token is one.
VIEWER = {"Authorization": "Bearer demo-admin-token"}

# (path, how the body is sent, good credentials, a wrong password, token field, the family's 429 body,
#  the family's status for bad credentials)
FAMILIES = [
    pytest.param(
        "/products/v1/authentication",
        "json",
        {"Username": "demo-dt", "Password": "demo-dt-secret"},
        {"Username": "demo-dt", "Password": "guess"},
        "token",
        {"message": "Too many requests. Try again later."},
        400,
        id="datatrust-v1",
    ),
    pytest.param(
        "/v1/authenticate",
        "form",
        {"name": "demo-ffr", "password": "demo-ffr-secret"},
        {"name": "demo-ffr", "password": "guess"},
        "Token",
        {"Message": "Too many requests. Try again later."},
        401,
        id="v1-family (form)",
    ),
    pytest.param(
        "/api/v1/authenticate",
        "json",
        {"name": "demo-mt", "password": "demo-mt-secret"},
        {"name": "demo-mt", "password": "guess"},
        "Token",
        {"Message": "Too many requests. Try again later."},
        401,
        id="v1-family HML (json)",
    ),
]


def _logins_counted(metrics: str) -> dict[str, float]:
    counted: dict[str, float] = {}
    for line in metrics.splitlines():
        if line.startswith("pdt_proxy_logins_total{"):
            series, _, value = line.rpartition(" ")
            outcome = series.split('outcome="', 1)[1].split('"', 1)[0]
            counted[outcome] = counted.get(outcome, 0.0) + float(value)
    return counted


@pytest.mark.parametrize(("path", "encoding", "good", "wrong", "token_field", "limited", "refused"), FAMILIES)
async def test_failed_logins_are_throttled_with_the_family_429(
    tmp_path: Path,
    proxy_factory: ProxyFactory,
    path: str,
    encoding: str,
    good: dict[str, str],
    wrong: dict[str, str],
    token_field: str,
    limited: dict[str, Any],
    refused: int,
) -> None:
    logins = LoginSettings(throttle_per_user=LoginThrottleSettings(failures_per_minute=1, burst=2))
    async with proxy_factory(make_settings(tmp_path, logins=logins)) as client:

        async def login(fields: dict[str, str]) -> Any:
            if encoding == "form":
                return await client.post(path, data=fields)
            return await client.post(path, json=fields)

        failures = [await login(wrong) for _ in range(2)]
        throttled = await login(wrong)
        # Right or wrong, a throttled username is not verified: no argon2id to spend.
        right_but_throttled = await login(good)
        metrics = (await client.get("/metrics", headers=VIEWER)).text
    assert [answer.status_code for answer in failures] == [refused, refused]
    for answer in (throttled, right_but_throttled):
        assert answer.status_code == 429
        assert answer.json() == limited
        assert token_field not in answer.text
        # One failure a minute refills the bucket: the client is told to wait about that.
        assert 30 <= int(answer.headers["retry-after"]) <= 60
    assert _logins_counted(metrics) == {"bad_credentials": 2.0, "throttled": 2.0}


@pytest.mark.parametrize(("path", "encoding", "good", "wrong", "token_field", "limited", "refused"), FAMILIES)
async def test_repeated_valid_logins_are_served_from_the_verified_cache(
    tmp_path: Path,
    proxy_factory: ProxyFactory,
    path: str,
    encoding: str,
    good: dict[str, str],
    wrong: dict[str, str],
    token_field: str,
    limited: dict[str, Any],
    refused: int,
) -> None:
    async with proxy_factory(make_settings(tmp_path)) as client:
        answers = [
            await (client.post(path, data=good) if encoding == "form" else client.post(path, json=good))
            for _ in range(3)
        ]
        wrong_answer = await (
            client.post(path, data=wrong) if encoding == "form" else client.post(path, json=wrong)
        )
        metrics = (await client.get("/metrics", headers=VIEWER)).text
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert all(answer.json()[token_field] for answer in answers)
    assert wrong_answer.status_code == refused
    assert _logins_counted(metrics) == {"verified": 1.0, "cached": 2.0, "bad_credentials": 1.0}
    # Labels are the product and the outcome only: no username, address or secret.
    lines = [line for line in metrics.splitlines() if line.startswith("pdt_proxy_logins_total{")]
    assert all(good_value not in line for line in lines for good_value in good.values())
    assert all("127.0.0.1" not in line for line in lines)


async def test_a_client_address_spraying_usernames_is_throttled(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    logins = LoginSettings(throttle_per_address=LoginThrottleSettings(failures_per_minute=1, burst=3))
    async with proxy_factory(make_settings(tmp_path, logins=logins)) as client:
        statuses = [
            (
                await client.post(
                    "/products/v1/authentication", json={"Username": f"guess-{n}", "Password": "x"}
                )
            ).status_code
            for n in range(4)
        ]
    assert statuses == [400, 400, 400, 429]
