from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from proxy.edge.tokens import MAX_TOKEN_LENGTH, LegacyTokens, load_token_key
from proxy.errors import ConfigError, Unauthorized

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _tokens(clock: Clock, key: bytes = KEY) -> LegacyTokens:
    return LegacyTokens(key, ttl_s=3600, clock=clock)


def test_issue_and_verify_round_trip() -> None:
    clock = Clock()
    tokens = _tokens(clock)
    token, expires_at = tokens.issue(tenant_id="t1", username="u1", environment="prd", products=["ffr", "mt"])
    assert len(token) <= MAX_TOKEN_LENGTH
    assert expires_at == int(clock.now) + 3600
    principal = tokens.verify(f"Bearer {token}", environment="prd")
    assert (principal.tenant_id, principal.username, principal.environment) == ("t1", "u1", "prd")
    assert principal.products == frozenset({"ffr", "mt"})


def test_any_replica_with_the_key_verifies() -> None:
    clock = Clock()
    token, _ = _tokens(clock).issue(tenant_id="t", username="u", environment="hml", products=["p"])
    assert _tokens(clock).verify(f"bearer {token}", environment="hml").tenant_id == "t"


def _forged_other_key(token: str) -> str:
    return LegacyTokens(b"x" * 32, ttl_s=60).issue(
        tenant_id="t", username="u", environment="prd", products=["p"]
    )[0]


def _tampered(token: str) -> str:
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["tid"] = "someone-else"
    forged_payload = jwt.encode(claims, "i" * 32, algorithm="HS256").split(".")[1]
    return f"{header}.{forged_payload}.{signature}"


def _unsigned(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, None, algorithm="none")


@pytest.mark.parametrize(
    "header_for",
    [
        lambda token: None,
        lambda token: "",
        lambda token: token,
        lambda token: f"Basic {token}",
        lambda token: "Bearer ",
        lambda token: "Bearer not.a.jwt",
        lambda token: f"Bearer {_forged_other_key(token)}",
        lambda token: f"Bearer {_tampered(token)}",
        lambda token: f"Bearer {_unsigned(token)}",
        lambda token: "Bearer " + "a" * 5000,
    ],
    ids=[
        "missing",
        "empty",
        "no-scheme",
        "basic",
        "empty-bearer",
        "garbage",
        "other-key",
        "tampered",
        "alg-none",
        "huge",
    ],
)
def test_bad_headers_are_unauthorized(header_for: object) -> None:
    tokens = _tokens(Clock())
    token, _ = tokens.issue(tenant_id="t", username="u", environment="prd", products=["p"])
    with pytest.raises(Unauthorized):
        tokens.verify(header_for(token), environment="prd")  # type: ignore[operator]


def test_expired_token_is_unauthorized() -> None:
    clock = Clock()
    tokens = _tokens(clock)
    token, _ = tokens.issue(tenant_id="t", username="u", environment="prd", products=["p"])
    clock.now += 3600
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(f"Bearer {token}", environment="prd")


def test_token_of_one_environment_is_refused_on_the_other() -> None:
    tokens = _tokens(Clock())
    token, _ = tokens.issue(tenant_id="t", username="u", environment="hml", products=["p"])
    with pytest.raises(Unauthorized, match="another environment"):
        tokens.verify(f"Bearer {token}", environment="prd")


def test_short_keys_are_refused() -> None:
    with pytest.raises(ConfigError):
        LegacyTokens(b"short", ttl_s=60)


def test_key_file_is_created_once_and_shared(tmp_path: Path) -> None:
    first = load_token_key(None, tmp_path / "data")
    second = load_token_key(None, tmp_path / "data")
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "data" / "token.key").stat().st_mode & 0o777 == 0o600
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / "token.key"]


def test_configured_key_wins_over_the_file(tmp_path: Path) -> None:
    assert load_token_key("c" * 40, tmp_path) == b"c" * 40
    assert not (tmp_path / "token.key").exists()


def test_truncated_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "token.key").write_text("short", encoding="utf-8")
    with pytest.raises(ConfigError, match="shorter than 32"):
        load_token_key(None, tmp_path)


def test_token_from_the_future_is_refused() -> None:
    clock = Clock()
    token, _ = _tokens(clock).issue(tenant_id="t", username="u", environment="prd", products=["p"])
    clock.now -= 60
    with pytest.raises(Unauthorized, match="future"):
        _tokens(clock).verify(f"Bearer {token}", environment="prd")


def test_a_cached_token_still_expires_and_keeps_its_environment() -> None:
    clock = Clock()
    tokens = _tokens(clock)
    token, _ = tokens.issue(tenant_id="t", username="u", environment="prd", products=["p"])
    assert tokens.verify(f"Bearer {token}", environment="prd").tenant_id == "t"
    assert tokens.verify(f"Bearer {token}", environment="prd").tenant_id == "t"  # from the cache
    with pytest.raises(Unauthorized, match="another environment"):
        tokens.verify(f"Bearer {token}", environment="hml")
    clock.now += 3600
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(f"Bearer {token}", environment="prd")
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(f"Bearer {token}", environment="prd")
