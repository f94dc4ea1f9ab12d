"""Tenants: who may call, with which legacy credentials, answered by which PDT account.

The tenant file maps each legacy username to its tenant (the client company), the
products the tenant bought, and the tenant's PDT credentials per environment.
Secrets never sit in the file in clear: a password is ``{env: VARIABLE}`` or
``{file: path}``; only demo tenants may write ``{value: ...}``, and demo tenants are
refused whenever a real PDT host is configured.

Legacy passwords are stored as argon2id hashes and checked off the event loop. An
unknown username is checked against a dummy hash, so the answer takes as long as
for a known one and does not reveal which usernames exist.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import argon2
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from proxy.config import Environment, RateLimitSettings, project_root
from proxy.credentials import PdtCredential
from proxy.errors import BadCredentials, ConfigError, Forbidden
from proxy.migration_stage import Stage
from proxy.yaml_files import load_yaml

__all__ = ["LegacyAccount", "Tenant", "TenantDirectory", "demo_tenants_file", "hash_password", "load_tenants"]

Strategy = Literal["modules", "pack"]

# Moderate argon2id cost (OWASP's minimum profile): a legacy client authenticates
# once per token lifetime, so ~20 ms per login is affordable and still slow for
# an offline guesser.
_HASHER = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = _HASHER.hash("no user has this password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def demo_tenants_file() -> Path:
    return project_root() / "config" / "tenants.demo.yaml"


class _Secret(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    env: str | None = None
    file: Path | None = None
    value: str | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _exactly_one(self) -> _Secret:
        if sum(item is not None for item in (self.env, self.file, self.value)) != 1:
            raise ValueError("a secret is exactly one of {env: NAME}, {file: PATH} or {value: ...}")
        return self


class _PdtAccount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    username: str = Field(min_length=1)
    password: _Secret


class _User(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    username: str = Field(min_length=1, max_length=256)
    password_hash: str = Field(pattern=r"^\$argon2id?\$")


class _TenantSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-_]{0,62}$")
    name: str
    demo: bool = False
    products: list[str] = Field(min_length=1)
    strategy: Strategy = "modules"
    # Goes into a PDT URL path: a plain slug only.
    pack: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
    users: list[_User] = Field(min_length=1)
    pdt: dict[Environment, _PdtAccount]
    # Migration stage (proxy/migration_stage.py): pdt, legacy, shadow, canary:N,
    # pdt-fallback; ``stages`` overrides it per product.
    stage: str = "pdt"
    stages: dict[str, str] = Field(default_factory=dict)
    # The tenant's own account on the legacy backends, per environment: what the
    # legacy, shadow, canary and fallback stages log in with.
    legacy: dict[Environment, _PdtAccount] = Field(default_factory=dict)
    # This tenant's request rate, per worker; None = server.tenant_rate_limit.
    rate_limit: RateLimitSettings | None = None
    # The migration autopilot's plan (proxy/autopilot_plan.py), checked against
    # compare.yaml's defaults when the runtime is built; None = no plan from the file.
    autopilot: dict[str, Any] | None = None


class _TenantFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tenants: list[_TenantSpec]


_PDT: Final = Stage("pdt")


@dataclass(frozen=True, slots=True)
class LegacyAccount:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    products: frozenset[str]
    strategy: Strategy
    pack: str | None
    demo: bool
    credentials: Mapping[Environment, PdtCredential] = field(repr=False)
    stage: Stage = _PDT
    product_stages: Mapping[str, Stage] = field(default_factory=dict)
    legacy_accounts: Mapping[Environment, LegacyAccount] = field(default_factory=dict, repr=False)
    rate_limit: RateLimitSettings | None = None
    autopilot: Mapping[str, Any] | None = None

    def stage_for(self, product: str) -> Stage:
        """The stage the tenant file sets for ``product`` (runtime overrides live in the StageBook)."""
        return self.product_stages.get(product, self.stage)

    def legacy_account(self, environment: Environment) -> LegacyAccount:
        found = self.legacy_accounts.get(environment)
        if found is None:
            raise Forbidden(f"tenant {self.id} has no legacy credentials for {environment}")
        return found

    def credential(self, environment: Environment) -> PdtCredential:
        found = self.credentials.get(environment)
        if found is None:
            # The tenant has no PDT account for this environment (e.g. HML only).
            raise Forbidden(f"tenant {self.id} has no PDT credentials for {environment}")
        return found

    def require_product(self, product: str) -> None:
        if product not in self.products:
            raise Forbidden(f"tenant {self.id} has no access to {product}")


@dataclass(frozen=True)
class TenantDirectory:
    tenants: Mapping[str, Tenant]
    _users: Mapping[str, tuple[str, str]] = field(repr=False)
    refused_demo: tuple[str, ...] = ()

    def get(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(tenant_id)

    async def authenticate(self, username: str, password: str) -> Tenant:
        """The tenant of a legacy username/password; raises BadCredentials otherwise."""
        tenant_id, stored = self._users.get(username, ("", _DUMMY_HASH))
        verified = await asyncio.to_thread(_verify, stored, password)
        tenant = self.tenants.get(tenant_id)
        if not verified or tenant is None:
            raise BadCredentials("legacy credentials refused")
        return tenant


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False


def _resolve_secret(secret: _Secret, *, base: Path, where: str, demo: bool) -> str:
    if secret.value is not None:
        if not demo:
            raise ConfigError(
                f"{where}: clear-text secrets are only allowed for demo tenants; use env or file"
            )
        return secret.value
    if secret.env is not None:
        value = os.environ.get(secret.env)
        if not value:
            raise ConfigError(f"{where}: environment variable {secret.env} is not set")
        return value
    assert secret.file is not None
    path = secret.file if secret.file.is_absolute() else base / secret.file
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from exc


def _stages(entry: _TenantSpec, where: str) -> tuple[Stage, dict[str, Stage]]:
    try:
        stage = Stage.parse(entry.stage)
        per_product = {product: Stage.parse(value) for product, value in entry.stages.items()}
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    unknown = sorted(set(per_product) - set(entry.products))
    if unknown:
        raise ConfigError(f"{where}: stages name products the tenant does not have: {unknown}")
    return stage, per_product


def _claim_upstream_accounts(entry: _TenantSpec, where: str, owners: dict[tuple[str, str, str], str]) -> None:
    """Record ``entry``'s PDT and legacy accounts, refusing one another tenant holds.

    Upstreams keep transactions per account: two tenants on one account would read
    each other's transactions through the proxy.
    """
    for side, accounts in (("pdt", entry.pdt), ("legacy", entry.legacy)):
        for environment, account in accounts.items():
            owner = owners.setdefault((side, environment, account.username), entry.id)
            if owner != entry.id:
                raise ConfigError(
                    f"{where}: {side}.{environment} account {account.username!r} already belongs to "
                    f"tenant {owner}; tenants must not share an upstream account"
                )


def _tenant(entry: _TenantSpec, where: str, *, base: Path) -> Tenant:
    if entry.strategy == "pack" and not entry.pack:
        raise ConfigError(f"{where}: strategy 'pack' needs 'pack' (the PDT pack name)")
    stage, product_stages = _stages(entry, where)

    def secret(account: _PdtAccount, section: str) -> str:
        return _resolve_secret(account.password, base=base, where=f"{where}: {section}", demo=entry.demo)

    legacy_accounts = {
        environment: LegacyAccount(account.username, secret(account, f"legacy.{environment}"))
        for environment, account in entry.legacy.items()
    }
    if not legacy_accounts and any(s.needs_legacy for s in (stage, *product_stages.values())):
        raise ConfigError(f"{where}: stage {stage.label} needs 'legacy' credentials for the legacy backend")
    credentials = {
        environment: PdtCredential(environment, account.username, secret(account, f"pdt.{environment}"))
        for environment, account in entry.pdt.items()
    }
    return Tenant(
        entry.id,
        entry.name,
        frozenset(entry.products),
        entry.strategy,
        entry.pack,
        entry.demo,
        credentials,
        stage,
        product_stages,
        legacy_accounts,
        entry.rate_limit,
        entry.autopilot,
    )


def load_tenants(path: Path, *, known_products: frozenset[str], simulator_only: bool) -> TenantDirectory:
    """Read and check the tenant file. Demo tenants load only when ``simulator_only``."""
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
        spec = _TenantFile.model_validate(raw)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read tenant file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ConfigError(f"{path}: {'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
    tenants: dict[str, Tenant] = {}
    users: dict[str, tuple[str, str]] = {}
    refused: list[str] = []
    upstream_accounts: dict[tuple[str, str, str], str] = {}
    for entry in spec.tenants:
        where = f"{path}: tenant {entry.id}"
        if entry.demo and not simulator_only:
            refused.append(entry.id)
            continue
        if entry.id in tenants:
            raise ConfigError(f"{where}: id used twice")
        unknown = sorted(set(entry.products) - known_products)
        if unknown and entry.demo:
            # The demo file lists every product; a mappings directory may ship fewer.
            entry = entry.model_copy(update={"products": [p for p in entry.products if p in known_products]})
        elif unknown:
            raise ConfigError(f"{where}: unknown products {unknown} (known: {sorted(known_products)})")
        tenants[entry.id] = _tenant(entry, where, base=path.parent)
        _claim_upstream_accounts(entry, where, upstream_accounts)
        for user in entry.users:
            if user.username in users:
                raise ConfigError(f"{where}: username {user.username!r} already belongs to another tenant")
            users[user.username] = (entry.id, user.password_hash)
    return TenantDirectory(tenants, users, tuple(refused))
