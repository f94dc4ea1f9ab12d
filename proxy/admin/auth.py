"""Who may use the admin API: bearer tokens, each naming an actor and a role.

Roles, each including the one before it:

- ``viewer``: reads everything (tenants, backtests, ledger, audit, metrics);
- ``operator``: also changes stages (and will drive the migration autopilot);
- ``admin``: also reloads the configuration.

Tokens come from ``security.admin_tokens_file`` (``PROXY_ADMIN_TOKENS_FILE``), a
YAML list of ``{actor, role, token_sha256}`` (quote the hash: YAML reads an
all-digit one as a number): the file holds hashes only, so it
can sit in a ConfigMap or a repository without granting anything. On top of it,
``security.admin_token`` (``PROXY_ADMIN_TOKEN``) is one ``admin`` token whose actor
is ``admin``. On the embedded defaults (every PDT environment is the built-in
simulator, nothing real behind the proxy) and nothing configured, the published
``demo-admin-token`` is an ``admin``; with a real PDT host and no token configured
the admin API refuses every request (503): it never opens by omission.

The audit's actor is the token's actor, never something the caller writes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proxy.config import Settings
from proxy.errors import ConfigError
from proxy.observability.logging import get_logger
from proxy.yaml_files import load_yaml

__all__ = ["DEMO_ADMIN_TOKEN", "ROLES", "AdminAuth", "AdminIdentity", "Role", "token_sha256"]

_log = get_logger(__name__)

# Published on purpose, like the demo tenants' passwords: only ever in force while
# PDT is the built-in simulator.
DEMO_ADMIN_TOKEN: Final = "demo-admin-token"  # noqa: S105

Role = Literal["viewer", "operator", "admin"]
ROLES: Final[tuple[Role, ...]] = ("viewer", "operator", "admin")
_RANK: Final = {role: rank for rank, role in enumerate(ROLES)}
# Shown in audit rows and logs: letters, digits and a few separators, like a login.
_Actor = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._@:-]{0,63}$")]


@dataclass(frozen=True, slots=True)
class AdminIdentity:
    """Who a valid admin token speaks for."""

    actor: str
    role: Role

    def may(self, needed: Role) -> bool:
        return _RANK[self.role] >= _RANK[needed]


class _TokenEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: _Actor
    role: Role
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$", to_lower=True)]


_ENTRIES: Final = TypeAdapter(list[_TokenEntry])


@dataclass(frozen=True, slots=True)
class _Grant:
    identity: AdminIdentity
    digest: bytes


def token_sha256(token: str) -> str:
    """What the tokens file stores for ``token`` (``pdt-proxy`` operators hash with this)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _load_tokens_file(path: Path) -> list[_Grant]:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the admin tokens file: {exc}") from None
    try:
        entries = _ENTRIES.validate_python(raw if raw is not None else [])
    except ValidationError as exc:
        problems = "; ".join(
            f"entry {'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"{path}: invalid admin tokens file: {problems}") from None
    return [
        _Grant(AdminIdentity(entry.actor, entry.role), bytes.fromhex(entry.token_sha256)) for entry in entries
    ]


class AdminAuth:
    """The admin tokens in force, and the check every admin endpoint makes first."""

    def __init__(self, grants: Sequence[_Grant], *, source: str = "admin tokens") -> None:
        digests = [grant.digest for grant in grants]
        if len(set(digests)) != len(digests):
            # One token, two actors: the audit could not say who acted.
            raise ConfigError(f"{source}: two admin token entries share one token")
        self._grants = tuple(grants)

    @classmethod
    def from_settings(cls, settings: Settings) -> AdminAuth:
        security = settings.security
        grants = _load_tokens_file(security.admin_tokens_file) if security.admin_tokens_file else []
        single = security.admin_token
        if single is None and not grants and settings.pdt.all_simulator:
            single = DEMO_ADMIN_TOKEN
        if single:
            grants.append(_Grant(AdminIdentity("admin", "admin"), hashlib.sha256(single.encode()).digest()))
        sources = [str(security.admin_tokens_file)] if security.admin_tokens_file else []
        if security.admin_token:
            sources.append("security.admin_token")
        return cls(grants, source=" and ".join(sources) or "admin tokens")

    @property
    def enabled(self) -> bool:
        return bool(self._grants)

    def identify(self, authorization: str | None) -> AdminIdentity | None:
        """The identity of an ``Authorization: Bearer`` header, or None."""
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        digest = hashlib.sha256(presented.strip().encode("utf-8")).digest()
        found: AdminIdentity | None = None
        # Every entry compared, in constant time: the answer's timing says nothing
        # about which entry (or how much of one) a guess matched.
        for grant in self._grants:
            if hmac.compare_digest(digest, grant.digest):
                found = grant.identity
        return found

    def check(self, request: Request, needed: Role) -> AdminIdentity | Response:
        """The caller's identity when it holds ``needed`` or more, else the answer to send."""
        if not self._grants:
            return JSONResponse(
                {
                    "message": "the admin API is disabled: configure security.admin_tokens_file "
                    "(PROXY_ADMIN_TOKENS_FILE) or security.admin_token (PROXY_ADMIN_TOKEN)"
                },
                503,
            )
        identity = self.identify(request.headers.get("authorization"))
        if identity is None:
            _log.warning(
                "admin request refused", reason="token", method=request.method, path=request.url.path
            )
            return JSONResponse(
                {"message": "admin token missing or invalid"}, 401, headers={"WWW-Authenticate": "Bearer"}
            )
        if not identity.may(needed):
            _log.warning(
                "admin request refused",
                reason="role",
                actor=identity.actor,
                role=identity.role,
                needed=needed,
                method=request.method,
                path=request.url.path,
            )
            return JSONResponse(
                {"message": f"the {identity.role} role may not do this; it needs {needed}"}, 403
            )
        _log.info(
            "admin request",
            actor=identity.actor,
            role=identity.role,
            method=request.method,
            path=request.url.path,
        )
        return identity
