"""Tenant isolation: a legacy token speaks for one tenant, one environment, its products only.

Two tenants on Data Trust v1 and two sharing FFR and Mobile Trust (plus an FFR-only
one), each with its own PDT and legacy-backend accounts, as in production. What one
tenant created is invisible to the other, whichever stage each is in and whichever
side (PDT or the legacy backend) holds the transaction: a foreign id gets the very
answer an unknown id gets, so probing ids reveals nothing. Legacy tokens never open
the admin API (where backtests, tenants and the ledger live) and the admin token
never opens a legacy route. A token is bound to its environment and to the products
it was issued for, and any change to it is refused.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import jwt
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy.config import Settings
from proxy.mapping.examples import load_example
from proxy.migration_stage import Stage
from proxy.runtime import Runtime
from proxy.simulators.otp import token_code
from proxy.tenants import hash_password
from tests.admin.test_tenant_routes import ADMIN, proxy_app
from tests.conftest import make_settings

Family = Literal["dt", "v1"]
Env = Literal["prd", "hml"]

# tenant id -> products. The v1 pair shares the FFR/Mobile Trust login endpoint.
TENANTS: dict[str, tuple[str, ...]] = {
    "dt-a": ("datatrust-v1",),
    "dt-b": ("datatrust-v1",),
    "v1-a": ("ffr", "mobile-trust"),
    "v1-b": ("ffr", "mobile-trust"),
    "ffr-only": ("ffr",),
}
PREFIX: dict[tuple[Family, Env], str] = {
    ("dt", "prd"): "/products/v1",
    ("dt", "hml"): "/api/products/v1",
    ("v1", "prd"): "/v1",
    ("v1", "hml"): "/api/v1",
}
DT_DENIED = {"message": "Authorization has been denied for this request."}
V1_DENIED = {"Message": "Authorization has been denied for this request."}
DENIED: dict[Family, dict[str, str]] = {"dt": DT_DENIED, "v1": V1_DENIED}
DT_PERSON: dict[str, Any] = {
    "IdentifierId": "pedido-123",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}


def _password(tenant: str) -> str:
    return f"{tenant}-secret"


def _accounts(tenant: str, section: str) -> str:
    # Every tenant its own PDT and legacy account per environment: isolation on both
    # sides rests on the upstream scoping transactions to the account that made them.
    lines = [f"    {section}:"]
    for env in ("prd", "hml"):
        name = f"{tenant}-{section}-{env}"
        lines.append(f"      {env}: {{username: {name}, password: {{value: {name}-pw}}}}")
    return "\n".join(lines) + "\n"


@functools.cache
def _tenants_yaml() -> str:
    # Hashed once per session: argon2id is slow on purpose. ``demo: true`` only so the
    # accounts may be written in clear; both upstreams are the built-in simulators.
    entries = [
        f"  - id: {tenant}\n    name: {tenant}\n    demo: true\n    products: [{', '.join(products)}]\n"
        f"    users: [{{username: {tenant}, password_hash: '{hash_password(_password(tenant))}'}}]\n"
        + _accounts(tenant, "pdt")
        + _accounts(tenant, "legacy")
        for tenant, products in TENANTS.items()
    ]
    return "tenants:\n" + "".join(entries)


def _settings(tmp_path: Path) -> Settings:
    path = tmp_path / "tenants.yaml"
    path.write_text(_tenants_yaml(), encoding="utf-8")
    return make_settings(tmp_path, tenants_file=path)


@asynccontextmanager
async def _proxy(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    async with proxy_app(_settings(tmp_path)) as (client, runtime):
        yield client, runtime
        if runtime.shadow is not None:
            await runtime.shadow.drain(10.0)


async def _login(client: httpx.AsyncClient, tenant: str, family: Family, env: Env = "prd") -> str:
    prefix = PREFIX[family, env]
    if family == "dt":
        answer = await client.post(
            f"{prefix}/authentication", json={"Username": tenant, "Password": _password(tenant)}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])
    answer = await client.post(f"{prefix}/authenticate", data={"name": tenant, "password": _password(tenant)})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["Token"])


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _set_stage(client: httpx.AsyncClient, tenant: str, label: str) -> None:
    stage = Stage.parse(label)
    body = {"stage": stage.name, "percent": stage.percent} if stage.name == "canary" else {"stage": label}
    answer = await client.put(f"/admin/tenants/{tenant}/stage", json=body, headers=ADMIN)
    assert answer.status_code == 200, answer.text


# --- reads, tokens and validations by id -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ByIdCall:
    """A legacy call naming a transaction; ``{id}`` in ``path`` is the transaction id."""

    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ProductCase:
    product: str
    family: Family
    owner: str
    intruder: str
    create_path: str
    create_body: dict[str, Any]
    id_field: str
    calls: tuple[ByIdCall, ...]


PRODUCTS: list[ProductCase] = [
    ProductCase(
        "datatrust-v1",
        "dt",
        "dt-a",
        "dt-b",
        "/datatrust",
        DT_PERSON,
        "transactionId",
        (
            ByIdCall("get", "GET", "/datatrust/{id}"),
            ByIdCall("send token", "POST", "/datatrust/{id}/token", {"Channel": "Sms"}),
            # A wrong code: the intruder must not even burn the owner's attempts.
            ByIdCall(
                "validate token",
                "POST",
                "/datatrust/{id}/token/validate",
                {"Channel": "Sms", "Value": "000000"},
            ),
        ),
    ),
    ProductCase(
        "mobile-trust",
        "v1",
        "v1-a",
        "v1-b",
        "/mobiletrust/transaction",
        load_example("mobile-trust", "transaction.request"),
        "TransactionID",
        (ByIdCall("get", "GET", "/mobiletrust/transaction/{id}"),),
    ),
]

# (stage the owner creates in, stage the intruder reads in). Reads by id take the PDT
# side, the legacy side, or PDT then legacy (pdt-fallback, canary): each combination of
# where the transaction lives and where the intruder's read goes.
STAGE_PAIRS: list[tuple[str, str]] = [
    ("pdt", "pdt"),
    ("pdt", "legacy"),
    ("pdt", "pdt-fallback"),
    ("pdt", "canary:50"),
    ("pdt", "shadow"),
    ("legacy", "legacy"),
    ("legacy", "pdt"),
    ("legacy", "pdt-fallback"),
    ("legacy", "canary:50"),
    ("legacy", "shadow"),
]


def _sides(runtime: Runtime, tenant: str) -> set[tuple[str, str]]:
    """(stage, side) of every request ``tenant`` was answered, from the proxy's own metrics."""
    text = runtime.metrics.render()[0].decode()
    return {
        (sample.labels["stage"], sample.labels["side"])
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pdt_proxy_requests_total" and sample.labels["tenant"] == tenant
    }


def _side_of(stage: str) -> str:
    # Who answers a call by id that PDT does not know: reads under pdt-fallback and
    # canary go to PDT first, then to the legacy backend.
    return "pdt" if stage == "pdt" else "legacy"


async def _call(
    client: httpx.AsyncClient, case: ProductCase, call: ByIdCall, transaction_id: str, token: str
) -> httpx.Response:
    path = PREFIX[case.family, "prd"] + call.path.format(id=transaction_id)
    return await client.request(call.method, path, json=call.body, headers=_bearer(token))


@pytest.mark.parametrize(
    ("created_in", "read_in"), STAGE_PAIRS, ids=[f"{c}-then-{r}" for c, r in STAGE_PAIRS]
)
@pytest.mark.parametrize("case", PRODUCTS, ids=[case.product for case in PRODUCTS])
async def test_another_tenants_transaction_is_answered_as_unknown(
    tmp_path: Path, case: ProductCase, created_in: str, read_in: str
) -> None:
    async with _proxy(tmp_path) as (client, runtime):
        owner = await _login(client, case.owner, case.family)
        intruder = await _login(client, case.intruder, case.family)
        await _set_stage(client, case.owner, created_in)
        created = await client.post(
            PREFIX[case.family, "prd"] + case.create_path, json=case.create_body, headers=_bearer(owner)
        )
        assert created.status_code in (200, 201), created.text
        transaction_id = str(created.json()[case.id_field])
        await _set_stage(client, case.intruder, read_in)
        unknown = str(uuid.uuid4())
        for call in case.calls:
            stolen = await _call(client, case, call, transaction_id, intruder)
            probe = await _call(client, case, call, unknown, intruder)
            assert stolen.status_code == 404, (call.name, stolen.status_code, stolen.text)
            # Byte for byte the unknown id's answer: existence is not revealed.
            assert (stolen.status_code, stolen.content) == (probe.status_code, probe.content), call.name
        # The case tested what it claims: created on the side of its stage, probed on the
        # side the intruder's stage sends reads to.
        assert _sides(runtime, case.owner) == {(created_in, _side_of(created_in))}
        assert _sides(runtime, case.intruder) == {(read_in, _side_of(read_in))}
        # The id is real and live for its owner, untouched by the intruder's attempts (the
        # owner stays in the stage it created in: an id lives on one side only).
        for call in case.calls:
            mine = await _call(client, case, call, transaction_id, owner)
            assert mine.status_code in (200, 201), (call.name, mine.status_code, mine.text)
        if case.product == "datatrust-v1":
            valid = await _call(
                client,
                case,
                ByIdCall(
                    "validate",
                    "POST",
                    "/datatrust/{id}/token/validate",
                    {"Channel": "Sms", "Value": token_code(transaction_id, "sms")},
                ),
                transaction_id,
                owner,
            )
            assert valid.status_code == 200, valid.text
            assert valid.json()["status"] == "Valid", valid.text


async def test_backtest_and_ledger_of_one_tenant_hold_none_of_the_others_traffic(tmp_path: Path) -> None:
    async with _proxy(tmp_path) as (client, runtime):
        for tenant, requests in (("dt-a", 2), ("dt-b", 1)):
            await _set_stage(client, tenant, "shadow")
            token = await _login(client, tenant, "dt")
            for _ in range(requests):
                answer = await client.post("/products/v1/datatrust", json=DT_PERSON, headers=_bearer(token))
                assert answer.status_code == 200, answer.text
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        backtests = {
            tenant: (await client.get(f"/admin/tenants/{tenant}/backtest", headers=ADMIN)).json()
            for tenant in ("dt-a", "dt-b")
        }
        month = f"{datetime.now(UTC):%Y-%m}"
        ledger = await client.get(f"/admin/ledger?month={month}&tenant=dt-b", headers=ADMIN)
    assert {tenant: report["samples"] for tenant, report in backtests.items()} == {"dt-a": 2, "dt-b": 1}
    assert ledger.status_code == 200, ledger.text
    assert "dt-b" in ledger.text
    assert "dt-a" not in ledger.text


# --- the admin API and the legacy routes keep their tokens apart ------------------------------------

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/admin/tenants", None),
    ("PUT", "/admin/tenants/dt-a/stage", {"stage": "legacy"}),
    ("GET", "/admin/tenants/dt-a/stage/audit", None),
    ("GET", "/admin/tenants/dt-a/backtest", None),
    ("GET", "/admin/tenants/dt-b/backtest", None),
    ("GET", "/admin/ledger?month=2026-12", None),
    ("GET", "/admin/ledger?month=2026-12&tenant=dt-a", None),
    ("GET", "/admin/ledger/stats", None),
]
# Whose legacy token is tried on the admin API: each family, each environment.
LEGACY_TOKENS: list[tuple[str, Family, Env]] = [
    ("dt-a", "dt", "prd"),
    ("dt-b", "dt", "hml"),
    ("v1-a", "v1", "prd"),
    ("ffr-only", "v1", "hml"),
]


async def test_legacy_tokens_never_open_the_admin_api(tmp_path: Path) -> None:
    async with _proxy(tmp_path) as (client, _):
        tokens = {(t, f, e): await _login(client, t, f, e) for t, f, e in LEGACY_TOKENS}
        for method, path, body in ADMIN_ROUTES:
            for who, token in tokens.items():
                answer = await client.request(method, path, json=body, headers=_bearer(token))
                assert answer.status_code == 401, (method, path, who, answer.text)
                assert answer.json() == {"message": "admin token missing or invalid"}
        audit = await client.get("/admin/tenants/dt-a/stage/audit", headers=ADMIN)
    assert audit.json()["changes"] == []  # the refused PUTs changed nothing


# Every legacy route, with the admin token instead of a legacy one. (family, env, method, path, body)
_ROUTES: list[tuple[Family, str, str, dict[str, Any] | None]] = [
    ("dt", "POST", "/datatrust", DT_PERSON),
    ("dt", "GET", "/datatrust/{id}", None),
    ("dt", "POST", "/datatrust/{id}/token", {"Channel": "Sms"}),
    ("dt", "POST", "/datatrust/{id}/token/validate", {"Channel": "Sms", "Value": "000000"}),
    ("v1", "POST", "/fintech/fraud/score", load_example("ffr", "score.request")),
    ("v1", "POST", "/mobiletrust/transaction", load_example("mobile-trust", "transaction.request")),
    ("v1", "GET", "/mobiletrust/transaction/{id}", None),
]
ENVS: tuple[Env, ...] = ("prd", "hml")
LEGACY_ROUTES: list[tuple[Family, Env, str, str, dict[str, Any] | None]] = [
    (family, env, method, path, body) for env in ENVS for family, method, path, body in _ROUTES
]


async def test_the_admin_token_never_opens_a_legacy_route(tmp_path: Path) -> None:
    async with _proxy(tmp_path) as (client, _):
        # A real id, so a 401 cannot be a 404 in disguise.
        created = await client.post(
            "/products/v1/datatrust", json=DT_PERSON, headers=_bearer(await _login(client, "dt-a", "dt"))
        )
        transaction_id = created.json()["transactionId"]
        for family, env, method, path, body in LEGACY_ROUTES:
            url = PREFIX[family, env] + path.format(id=transaction_id)
            answer = await client.request(method, url, json=body, headers=ADMIN)
            assert answer.status_code == 401, (method, url, answer.text)
            assert answer.json() == DENIED[family], (method, url)


# --- environment, product grant, tampering ----------------------------------------------------------

# (tenant, family, issued on, used on, product route)
CROSS_ENVIRONMENT: list[tuple[str, Family, Env, Env, str, dict[str, Any]]] = [
    ("dt-a", "dt", "hml", "prd", "/datatrust", DT_PERSON),
    ("dt-a", "dt", "prd", "hml", "/datatrust", DT_PERSON),
    ("v1-a", "v1", "hml", "prd", "/fintech/fraud/score", load_example("ffr", "score.request")),
    (
        "v1-a",
        "v1",
        "hml",
        "prd",
        "/mobiletrust/transaction",
        load_example("mobile-trust", "transaction.request"),
    ),
    (
        "v1-b",
        "v1",
        "prd",
        "hml",
        "/mobiletrust/transaction",
        load_example("mobile-trust", "transaction.request"),
    ),
]


@pytest.mark.parametrize(("tenant", "family", "issued", "used", "path", "body"), CROSS_ENVIRONMENT)
async def test_a_token_works_only_in_the_environment_it_was_issued_for(
    tmp_path: Path, tenant: str, family: Family, issued: Env, used: Env, path: str, body: dict[str, Any]
) -> None:
    async with _proxy(tmp_path) as (client, _):
        token = await _login(client, tenant, family, issued)
        refused = await client.post(PREFIX[family, used] + path, json=body, headers=_bearer(token))
        accepted = await client.post(PREFIX[family, issued] + path, json=body, headers=_bearer(token))
    assert refused.status_code == 401, refused.text
    assert refused.json() == DENIED[family]
    assert accepted.status_code in (200, 201), accepted.text


# (tenant, its family, route family, route) for products the tenant did not buy.
NOT_GRANTED: list[tuple[str, Family, Family, str, str, dict[str, Any] | None]] = [
    ("dt-a", "dt", "v1", "POST", "/fintech/fraud/score", load_example("ffr", "score.request")),
    (
        "dt-a",
        "dt",
        "v1",
        "POST",
        "/mobiletrust/transaction",
        load_example("mobile-trust", "transaction.request"),
    ),
    ("dt-a", "dt", "v1", "GET", "/mobiletrust/transaction/{id}", None),
    ("v1-a", "v1", "dt", "POST", "/datatrust", DT_PERSON),
    ("v1-a", "v1", "dt", "GET", "/datatrust/{id}", None),
    (
        "ffr-only",
        "v1",
        "v1",
        "POST",
        "/mobiletrust/transaction",
        load_example("mobile-trust", "transaction.request"),
    ),
    ("ffr-only", "v1", "v1", "GET", "/mobiletrust/transaction/{id}", None),
]


@pytest.mark.parametrize(("tenant", "family", "route_family", "method", "path", "body"), NOT_GRANTED)
async def test_a_product_the_tenant_did_not_buy_is_forbidden(
    tmp_path: Path,
    tenant: str,
    family: Family,
    route_family: Family,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    async with _proxy(tmp_path) as (client, _):
        token = await _login(client, tenant, family)
        url = PREFIX[route_family, "prd"] + path.format(id=uuid.uuid4())
        answer = await client.request(method, url, json=body, headers=_bearer(token))
    assert answer.status_code == 403, answer.text
    assert answer.json() == DENIED[route_family]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _with_claims(token: str, **changes: Any) -> str:
    """``token`` with its payload changed and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = {**orjson.loads(_unb64(payload)), **changes}
    return f"{header}.{_b64(orjson.dumps(claims))}.{signature}"


def _flip_last(text: str) -> str:
    return text[:-1] + ("A" if text[-1] != "A" else "B")


def _resigned(token: str, key: bytes, algorithm: str = "HS256", **changes: Any) -> str:
    claims = {**orjson.loads(_unb64(token.split(".")[1])), **changes}
    return jwt.encode(claims, key, algorithm=algorithm)


def _unsigned(token: str, **changes: Any) -> str:
    claims = {**orjson.loads(_unb64(token.split(".")[1])), **changes}
    header = _b64(orjson.dumps({"alg": "none", "typ": "JWT"}))
    return f"{header}.{_b64(orjson.dumps(claims))}."


TAMPERINGS: list[tuple[str, Any]] = [
    ("signature changed", _flip_last),
    ("another tenant named", lambda t: _with_claims(t, tid="dt-b")),
    ("a product added", lambda t: _with_claims(t, prd=["datatrust-v1", "ffr", "mobile-trust"])),
    ("environment changed", lambda t: _with_claims(t, env="hml")),
    ("expiry pushed back", lambda t: _with_claims(t, exp=4_102_444_800)),
    ("signed with another key", lambda t: _resigned(t, b"k" * 32, tid="dt-b")),
    ("alg none", lambda t: _unsigned(t, tid="dt-b")),
    ("signature stripped", lambda t: t.rsplit(".", 1)[0] + "."),
    ("truncated", lambda t: t[: len(t) // 2]),
]


@pytest.mark.parametrize("tamper", [fn for _, fn in TAMPERINGS], ids=[name for name, _ in TAMPERINGS])
async def test_a_tampered_token_is_refused(tmp_path: Path, tamper: Any) -> None:
    async with _proxy(tmp_path) as (client, _):
        token = await _login(client, "dt-a", "dt")
        created = await client.post("/products/v1/datatrust", json=DT_PERSON, headers=_bearer(token))
        path = f"/products/v1/datatrust/{created.json()['transactionId']}"
        forged = tamper(token)
        assert forged != token
        answers = [
            await client.get(path, headers=_bearer(forged)),
            await client.post("/products/v1/datatrust", json=DT_PERSON, headers=_bearer(forged)),
        ]
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert answer.json() == DT_DENIED
