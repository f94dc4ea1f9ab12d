"""One login's path: cache, throttle, argon2id; what each outcome costs and how it is counted.

"Costs" is counted in argon2id verifications (``proxy.tenants._verify`` calls),
not timed: a wrong password or an unknown user always pays one, a repeated valid
login and a throttled attempt pay none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from proxy import tenants as tenants_module
from proxy.config import LoginThrottleSettings
from proxy.errors import BadCredentials, RateLimited
from proxy.limits import LocalBuckets
from proxy.logins import Logins, LoginThrottle, VerifiedSecrets
from proxy.tenants import TenantDirectory, demo_tenants_file, load_tenants
from tests.upstream.support import FakeClock

PRODUCTS = frozenset({"datatrust-v1", "ffr", "mobile-trust"})
ADDRESS = "192.0.2.10"


class Outcomes:
    def __init__(self) -> None:
        self.seen: Counter[tuple[str, str]] = Counter()

    def count_login(self, *, product: str, outcome: str) -> None:
        self.seen[(product, outcome)] += 1


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    verify: Callable[[str, str], bool] = tenants_module._verify

    def counting(stored: str, password: str) -> bool:
        calls.append("argon2id")
        return verify(stored, password)

    monkeypatch.setattr(tenants_module, "_verify", counting)
    return calls


def _directory() -> TenantDirectory:
    return load_tenants(demo_tenants_file(), known_products=PRODUCTS, simulator_only=True)


def _logins(outcomes: Outcomes, clock: FakeClock | None = None) -> Logins:
    clock = clock or FakeClock()
    return Logins(
        VerifiedSecrets(ttl_s=300, max_users=100, clock=clock),
        LoginThrottle(
            LocalBuckets(clock=clock),
            per_user=LoginThrottleSettings(failures_per_minute=6, burst=3),
            per_address=LoginThrottleSettings(failures_per_minute=60, burst=100),
        ),
        outcomes,
    )


# (username, password, outcome, argon2id verifications so far)
Step = tuple[str, str, str, int]


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param(
            [("demo-dt", "demo-dt-secret", "verified", 1)] + [("demo-dt", "demo-dt-secret", "cached", 1)] * 3,
            id="repeated valid logins pay argon2id once",
        ),
        pytest.param(
            [
                ("demo-dt", "demo-dt-secret", "verified", 1),
                ("demo-dt", "wrong", "bad_credentials", 2),
                ("demo-dt", "demo-dt-secreT", "bad_credentials", 3),
            ],
            id="a wrong password after a cached one still pays argon2id",
        ),
        pytest.param(
            [("nobody", "demo-dt-secret", "bad_credentials", 1), ("ghost", "x", "bad_credentials", 2)],
            id="an unknown user pays as a known one",
        ),
        pytest.param(
            [("demo-dt", "wrong", "bad_credentials", n) for n in (1, 2, 3)]
            + [("demo-dt", "wrong", "throttled", 3), ("demo-dt", "demo-dt-secret", "throttled", 3)],
            id="throttled attempts pay nothing, right or wrong",
        ),
        pytest.param(
            [("demo-ffr", "demo-ffr-secret", "verified", 1)]
            + [("demo-ffr", "wrong", "bad_credentials", n) for n in (2, 3, 4)]
            + [("demo-ffr", "wrong", "throttled", 4), ("demo-ffr", "demo-ffr-secret", "cached", 4)],
            id="a verified client keeps logging in while its username is hammered",
        ),
    ],
)
async def test_outcomes_and_their_cost(argon2_calls: list[str], steps: list[Step]) -> None:
    outcomes = Outcomes()
    logins = _logins(outcomes)
    directory = _directory()
    for username, password, outcome, verifications in steps:
        if outcome in ("verified", "cached"):
            tenant = await logins.authenticate(directory, username, password, address=ADDRESS, product="p")
            assert tenant.id == username
        else:
            expected = RateLimited if outcome == "throttled" else BadCredentials
            with pytest.raises(expected):
                await logins.authenticate(directory, username, password, address=ADDRESS, product="p")
        assert len(argon2_calls) == verifications, (username, outcome)
    assert sum(outcomes.seen.values()) == len(steps)
    assert outcomes.seen == Counter(("p", outcome) for _, _, outcome, _ in steps)


async def test_a_new_tenant_set_drops_the_cache(argon2_calls: list[str]) -> None:
    logins = _logins(Outcomes())
    await logins.authenticate(_directory(), "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    reloaded = _directory()
    await logins.authenticate(reloaded, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    await logins.authenticate(reloaded, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    assert len(argon2_calls) == 2


async def test_forget_verified_drops_the_cache(argon2_calls: list[str]) -> None:
    logins = _logins(Outcomes())
    directory = _directory()
    await logins.authenticate(directory, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    logins.forget_verified()
    await logins.authenticate(directory, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    assert len(argon2_calls) == 2


async def test_the_cache_expires(argon2_calls: list[str]) -> None:
    clock = FakeClock()
    logins = _logins(Outcomes(), clock)
    directory = _directory()
    await logins.authenticate(directory, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    clock.advance(301)
    await logins.authenticate(directory, "demo-dt", "demo-dt-secret", address=ADDRESS, product="p")
    assert len(argon2_calls) == 2
