"""/metrics of a proxy that served real traffic carries no secret and no personal data in labels.

Label values leave the process on every scrape and are kept by Prometheus for
months, so they are checked after traffic on all three products (demo tenants,
every stage that changes which side answers, errors included) with the same
detectors that mask the logs (``privacy.find_personal_data``), and against every
secret and id the run itself handled: tokens, passwords, transaction ids, 2FA codes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy.admin.auth import DEMO_ADMIN_TOKEN
from proxy.mapping.examples import load_example
from proxy.privacy import find_personal_data
from proxy.runtime import Runtime
from proxy.simulators.otp import token_code
from tests.admin.test_tenant_routes import ADMIN, proxy_app
from tests.conftest import make_settings
from tests.edge.test_tenant_isolation import DT_PERSON

# /metrics on the public port is a viewer's to read; the demo admin token is one.
VIEWER = {"Authorization": "Bearer demo-admin-token"}

# Personal values the traffic below sends, in the shapes a label could hold them.
PERSONAL = ("12345678909", "123.456.789-09", "maria@example.com", "988056887", "01234567890", "19678335832")


@dataclass
class Seen:
    """Everything secret or identifying the traffic handled, to look for in the labels."""

    values: set[str] = field(default_factory=set)

    def add(self, *values: object) -> None:
        self.values.update(str(value) for value in values if value)


async def _login(client: httpx.AsyncClient, seen: Seen, path: str, body: dict[str, str], form: bool) -> str:
    answer = await (client.post(path, data=body) if form else client.post(path, json=body))
    assert answer.status_code == 200, answer.text
    token = str(answer.json().get("token") or answer.json()["Token"])
    seen.add(token)
    return token


async def _stage(client: httpx.AsyncClient, tenant: str, stage: str) -> None:
    answer = await client.put(f"/admin/tenants/{tenant}/stage", json={"stage": stage}, headers=ADMIN)
    assert answer.status_code == 200, answer.text


async def _datatrust(client: httpx.AsyncClient, seen: Seen) -> None:
    token = await _login(
        client,
        seen,
        "/products/v1/authentication",
        {"Username": "demo-dt", "Password": "demo-dt-secret"},
        False,
    )
    headers = {"authorization": f"Bearer {token}"}
    for stage in ("pdt", "shadow", "legacy", "pdt-fallback"):
        await _stage(client, "demo-dt", stage)
        created = await client.post("/products/v1/datatrust", json=DT_PERSON, headers=headers)
        assert created.status_code == 200, (stage, created.text)
        transaction_id = created.json()["transactionId"]
        code = token_code(transaction_id, "sms")
        seen.add(transaction_id, code)
        base = f"/products/v1/datatrust/{transaction_id}"
        assert (await client.get(base, headers=headers)).status_code == 200
        assert (
            await client.post(f"{base}/token", json={"Channel": "Sms"}, headers=headers)
        ).status_code == 201
        for value in ("000000", code):
            await client.post(
                f"{base}/token/validate", json={"Channel": "Sms", "Value": value}, headers=headers
            )
    # Errors: an unknown id shaped like a CPF, a CPF with wrong check digits, a forged token.
    assert (await client.get("/products/v1/datatrust/12345678909", headers=headers)).status_code == 404
    bad = {**DT_PERSON, "Document": "123.456.789-00"}
    assert (await client.post("/products/v1/datatrust", json=bad, headers=headers)).status_code == 400
    forged = {"authorization": f"Bearer {token[:-2]}xx"}
    assert (await client.post("/products/v1/datatrust", json=DT_PERSON, headers=forged)).status_code == 401
    # Bad credentials naming a person: the login is refused, the name must not become a label.
    refused = await client.post(
        "/products/v1/authentication", json={"Username": "maria@example.com", "Password": "hunter2"}
    )
    assert refused.status_code == 400
    await _stage(client, "demo-dt", "pdt")


async def _ffr(client: httpx.AsyncClient, seen: Seen) -> None:
    token = await _login(
        client, seen, "/v1/authenticate", {"name": "demo-ffr", "password": "demo-ffr-secret"}, True
    )
    headers = {"authorization": f"Bearer {token}"}
    for stage in ("pdt", "legacy"):
        await _stage(client, "demo-ffr", stage)
        answer = await client.post(
            "/v1/fintech/fraud/score", json=load_example("ffr", "score.request"), headers=headers
        )
        assert answer.status_code == 200, (stage, answer.text)
        seen.add(answer.json()["TransactionID"])
    await _stage(client, "demo-ffr", "pdt")


async def _mobile_trust(client: httpx.AsyncClient, seen: Seen) -> None:
    token = await _login(
        client, seen, "/api/v1/authenticate", {"name": "demo-mt", "password": "demo-mt-secret"}, False
    )
    headers = {"authorization": f"Bearer {token}"}
    body = {**load_example("mobile-trust", "transaction.request"), "BlockSmsSending": False}
    for stage in ("pdt", "shadow", "legacy"):
        await _stage(client, "demo-mt", stage)
        created = await client.post("/api/v1/mobiletrust/transaction", json=body, headers=headers)
        assert created.status_code == 200, (stage, created.text)
        transaction_id = created.json()["TransactionID"]
        seen.add(transaction_id)
        assert (
            await client.get(f"/api/v1/mobiletrust/transaction/{transaction_id}", headers=headers)
        ).status_code == 200
    assert (
        await client.get(f"/api/v1/mobiletrust/transaction/{uuid.uuid4()}", headers=headers)
    ).status_code == 404
    await _stage(client, "demo-mt", "pdt")


def _secrets_of(runtime: Runtime) -> set[str]:
    """Every password the proxy holds for the demo tenants, on both upstreams."""
    found = {DEMO_ADMIN_TOKEN, "demo-dt-secret", "demo-ffr-secret", "demo-mt-secret"}
    for tenant in runtime.tenants.tenants.values():
        found.update(credential.password for credential in tenant.credentials.values())
        found.update(account.password for account in tenant.legacy_accounts.values())
    return found


Forbidden = list[tuple[str, set[str]]]


def _leaks(text: str, forbidden: Forbidden) -> list[tuple[str, str, str]]:
    """(sample, label, what) for each label value holding personal data or a known value.

    Named by what was found, never by the value: assertion messages reach CI logs.
    """
    found: list[tuple[str, str, str]] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for name, value in sample.labels.items():
                found.extend((sample.name, name, kind) for kind in find_personal_data(value))
                found.extend(
                    (sample.name, name, what)
                    for what, known in forbidden
                    if any(item in value for item in known)
                )
    return found


async def test_metrics_labels_hold_no_secret_and_no_personal_data(tmp_path: Path) -> None:
    seen = Seen()
    async with proxy_app(make_settings(tmp_path)) as (client, runtime):
        await _datatrust(client, seen)
        await _ffr(client, seen)
        await _mobile_trust(client, seen)
        assert runtime.shadow is not None
        await runtime.shadow.drain(10.0)
        scraped = await client.get("/metrics", headers=VIEWER)
        secrets = _secrets_of(runtime)
    assert scraped.status_code == 200
    # The traffic reached the metrics: every tenant, both sides, the shadow, the fallback.
    values = {
        (name, value)
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        for name, value in sample.labels.items()
    }
    assert {("tenant", "demo-dt"), ("tenant", "demo-ffr"), ("tenant", "demo-mt")} <= values
    assert {("side", "pdt"), ("side", "legacy"), ("stage", "shadow"), ("stage", "pdt-fallback")} <= values
    forbidden: Forbidden = [
        ("token, transaction id or 2FA code", seen.values),
        ("password", secrets),
        ("personal value sent", set(PERSONAL)),
    ]
    assert _leaks(scraped.text, forbidden) == []


# The check itself, on expositions that do leak: it must see each kind.
LEAKY: list[tuple[str, list[str]]] = [
    ('x_total{tenant="12345678909"} 1.0', ["cpf"]),
    ('x_total{code="maria@example.com"} 1.0', ["email"]),
    ('x_total{code="11988056887"} 1.0', ["phone"]),
    ('x_total{detail="Bearer abc123"} 1.0', ["bearer"]),
    ('x_total{tenant="t-1f0c",op="get"} 1.0', ["known"]),
    ('x_total{tenant="***.***.***-09"} 1.0', []),
]


@pytest.mark.parametrize(("exposition", "kinds"), LEAKY)
def test_the_label_check_sees_each_kind(exposition: str, kinds: list[str]) -> None:
    found = _leaks(exposition + "\n", [("known", {"t-1f0c"})])
    assert [what for _, _, what in found] == kinds
