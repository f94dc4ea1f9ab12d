"""What build_runtime refuses and what it keeps stable across replicas and rotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.composition import build_runtime
from proxy.config import DatabaseSettings, SecuritySettings
from proxy.errors import ConfigError
from tests.conftest import make_settings

SHARED_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
KEY_A = "a" * 40
KEY_B = "b" * 40
CANARY = "c" * 40


@pytest.mark.parametrize(
    ("security", "missing"),
    [
        pytest.param(SecuritySettings(), "PROXY_TOKEN_KEY", id="no key at all"),
        pytest.param(SecuritySettings(token_key=KEY_A), "PROXY_CANARY_KEY", id="token key only"),
        pytest.param(SecuritySettings(canary_key=CANARY), "PROXY_TOKEN_KEY", id="canary key only"),
    ],
)
def test_a_replica_on_a_shared_database_refuses_to_start_without_shared_keys(
    tmp_path: Path, security: SecuritySettings, missing: str
) -> None:
    # Each replica would otherwise make its own key file: a token from one replica
    # would be a 401 on the next, and canary sides would depend on the replica.
    settings = make_settings(tmp_path, database=DatabaseSettings(dsn=SHARED_DSN), security=security)
    with pytest.raises(ConfigError, match=missing):
        build_runtime(settings)
    assert not (tmp_path / "data").exists()


def test_replicas_with_shared_keys_build(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        database=DatabaseSettings(dsn=SHARED_DSN),
        security=SecuritySettings(token_key=KEY_A, canary_key=CANARY),
    )
    build_runtime(settings)  # builds without touching the database (start() opens it)


CUSTOMERS = [f"{n:011d}" for n in range(200)]


def _buckets(tmp_path: Path, name: str, security: SecuritySettings) -> list[int]:
    runtime = build_runtime(make_settings(tmp_path / name, security=security))
    return [runtime.dispatcher.canary_bucket("acme", customer) for customer in CUSTOMERS]


def test_a_token_key_rotation_keeps_every_customer_in_its_canary_bucket(tmp_path: Path) -> None:
    before = _buckets(tmp_path, "before", SecuritySettings(token_key=KEY_A, canary_key=CANARY))
    after = _buckets(
        tmp_path, "after", SecuritySettings(token_key=KEY_B, previous_token_keys=(KEY_A,), canary_key=CANARY)
    )
    assert before == after
    # The key does decide placement: another canary key places people elsewhere.
    other = _buckets(tmp_path, "other", SecuritySettings(token_key=KEY_A, canary_key="d" * 40))
    assert other != before
