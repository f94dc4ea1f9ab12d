from __future__ import annotations

import jwt
import pytest

from proxy.edge.tokens import MAX_TOKEN_LENGTH, LegacyTokens, key_id
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
    return jwt.encode(claims, "", algorithm="none")  # PyJWT reads "" as no key


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


OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32
OTHER_KEY = b"x" * 32


def _kidless_token(key: bytes, clock: Clock, *, ttl_s: int = 3600) -> str:
    """A token as the proxy signed them before tokens named their key."""
    now = int(clock.now)
    claims = {
        "iss": "pdt-proxy",
        "sub": "u",
        "tid": "t",
        "env": "prd",
        "prd": ["p"],
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.parametrize(
    ("signed_with", "verifier_key", "previous", "accepted"),
    [
        pytest.param(NEW_KEY, NEW_KEY, (), True, id="current key"),
        pytest.param(OLD_KEY, NEW_KEY, (OLD_KEY,), True, id="rotated: the previous key still verifies"),
        pytest.param(OLD_KEY, NEW_KEY, (), False, id="previous key dropped: refused"),
        pytest.param(OTHER_KEY, NEW_KEY, (OLD_KEY,), False, id="a key never ours: refused"),
        pytest.param(NEW_KEY, OLD_KEY, (NEW_KEY,), True, id="new key listed as previous before promotion"),
    ],
)
def test_rotation_accepts_the_current_and_previous_keys(
    signed_with: bytes, verifier_key: bytes, previous: tuple[bytes, ...], accepted: bool
) -> None:
    clock = Clock()
    token, _ = _tokens(clock, signed_with).issue(
        tenant_id="t", username="u", environment="prd", products=["p"]
    )
    verifier = LegacyTokens(verifier_key, ttl_s=3600, previous_keys=previous, clock=clock)
    if accepted:
        assert verifier.verify(f"Bearer {token}", environment="prd").tenant_id == "t"
    else:
        with pytest.raises(Unauthorized, match="invalid"):
            verifier.verify(f"Bearer {token}", environment="prd")


@pytest.mark.parametrize(
    ("signed_with", "previous", "age_s", "error"),
    [
        pytest.param(OLD_KEY, (OLD_KEY,), 0, None, id="kid-less, previous key: accepted"),
        pytest.param(NEW_KEY, (OLD_KEY,), 0, None, id="kid-less, current key: accepted"),
        pytest.param(OLD_KEY, (OLD_KEY,), 7200, "expired", id="kid-less, expired: refused as expired"),
        pytest.param(OTHER_KEY, (OLD_KEY,), 0, "invalid", id="kid-less, unknown key: refused"),
    ],
)
def test_tokens_signed_before_kids_existed(
    signed_with: bytes, previous: tuple[bytes, ...], age_s: int, error: str | None
) -> None:
    clock = Clock()
    token = _kidless_token(signed_with, clock)
    clock.now += age_s
    verifier = LegacyTokens(NEW_KEY, ttl_s=3600, previous_keys=previous, clock=clock)
    if error is None:
        assert verifier.verify(f"Bearer {token}", environment="prd").username == "u"
    else:
        with pytest.raises(Unauthorized, match=error):
            verifier.verify(f"Bearer {token}", environment="prd")


def test_a_token_names_its_key_without_revealing_it() -> None:
    token, _ = _tokens(Clock(), NEW_KEY).issue(tenant_id="t", username="u", environment="prd", products=["p"])
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid == key_id(NEW_KEY)
    assert kid != key_id(OLD_KEY)
    assert NEW_KEY.decode() not in kid


def test_short_previous_keys_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        LegacyTokens(NEW_KEY, ttl_s=60, previous_keys=[b"short"])
