"""The proxy meters every legacy transaction of an authenticated tenant.

End to end on the embedded defaults (built-in PDT simulator): legacy requests in,
then the ledger store opened directly, as billing would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import Settings
from proxy.ledger.factory import SQLITE_FILE
from proxy.ledger.month import Month
from proxy.ledger.record import LedgerRecord, utc_now
from proxy.ledger.sqlite import SqliteStore
from proxy.ledger.store import LedgerStore
from proxy.simulators.otp import token_code
from proxy.tenants import hash_password
from tests.conftest import make_settings
from tests.ledger.support import BrokenStore, recent_records

EXAMPLE = {
    "IdentifierId": "pedido-123",
    "Document": "123.456.789-09",
    "Name": "Maria da Silva",
    "Email": "maria@example.com",
    "Phone": {"CountryCode": "55", "AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
PERSONAL = ["123.456.789-09", "12345678909", "Maria", "maria@example.com", "988056887", "06454"]


@asynccontextmanager
async def _proxy(settings: Settings, store: LedgerStore | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, ledger_store=store)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield client


async def _login(
    client: httpx.AsyncClient, user: str = "demo-dt", prefix: str = "/products/v1"
) -> dict[str, str]:
    answer = await client.post(
        f"{prefix}/authentication", json={"Username": user, "Password": f"{user}-secret"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def _ledger(settings: Settings) -> list[LedgerRecord]:
    store = SqliteStore(settings.data_dir / SQLITE_FILE)
    await store.open()
    try:
        return await recent_records(store)
    finally:
        await store.close()


def _assert_nothing_personal(records: Sequence[LedgerRecord]) -> None:
    for record in records:
        for value in PERSONAL:
            assert value not in repr(record)


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any] = EXAMPLE) -> str:
    answer = await client.post("/products/v1/datatrust", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["transactionId"])


@pytest.mark.parametrize("prefix", ["/products/v1", "/api/products/v1"])
async def test_a_transaction_is_recorded_with_what_billing_needs(settings: Settings, prefix: str) -> None:
    async with _proxy(settings) as client:
        headers = await _login(client, prefix=prefix)
        answer = await client.post(
            f"{prefix}/datatrust", json=EXAMPLE, headers={**headers, "X-Request-Id": "req-meter-1"}
        )
        assert answer.status_code == 200
    (record,) = await _ledger(settings)
    assert record == LedgerRecord(
        at=record.at,
        tenant="demo-dt",
        product="datatrust-v1",
        operation="datatrust.transaction.create",
        stage="pdt",
        side="pdt",
        pdt_transaction_id=answer.json()["transactionId"],
        modules=("scores", "ratings", "insights"),
        status=200,
        latency_ms=record.latency_ms,
        request_id="req-meter-1",
    )
    assert answer.headers["x-request-id"] == "req-meter-1"
    assert record.latency_ms > 0
    _assert_nothing_personal([record])


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        pytest.param(
            ("POST", "", {"Document": "123.456.789-00"}),
            ("datatrust.transaction.create", 400, None, ()),
            id="invalid-cpf",
        ),
        pytest.param(
            ("POST", "", {"Document": "12345678909"}),
            ("datatrust.transaction.create", 200, "new", ("scores", "insights")),
            id="no-contact-data-no-ratings",
        ),
        pytest.param(("GET", "/{id}", None), ("datatrust.transaction.get", 200, "{id}", ()), id="get"),
        pytest.param(
            ("GET", "/00000000-0000-0000-0000-000000000000", None),
            ("datatrust.transaction.get", 404, None, ()),
            id="get-unknown",
        ),
        pytest.param(
            ("POST", "/{id}/token", {"Channel": "Sms"}),
            ("datatrust.token.send", 201, "{id}", ("sms_token",)),
            id="token-sms",
        ),
        pytest.param(
            ("POST", "/{id}/token", {"Channel": "Email"}),
            ("datatrust.token.send", 201, "{id}", ("email_token",)),
            id="token-email",
        ),
        pytest.param(
            ("POST", "/{id}/token/validate", {"Channel": "Sms", "Value": "{code}"}),
            ("datatrust.token.validate", 200, "{id}", ()),
            id="token-validate",
        ),
    ],
)
async def test_each_operation_and_outcome_is_recorded(
    settings: Settings, call: tuple[str, str, dict[str, str] | None], expected: tuple[Any, ...]
) -> None:
    method, suffix, body = call
    async with _proxy(settings) as client:
        headers = await _login(client)
        created = await _create(client, headers)
        if suffix.endswith("/validate"):
            await client.post(
                f"/products/v1/datatrust/{created}/token", json={"Channel": "Sms"}, headers=headers
            )
        if body and body.get("Value") == "{code}":
            body = {**body, "Value": token_code(created, "sms")}
        answer = await client.request(
            method, "/products/v1/datatrust" + suffix.replace("{id}", created), json=body, headers=headers
        )
    records = await _ledger(settings)
    record = next(r for r in reversed(records) if r.request_id == answer.headers["x-request-id"])
    operation, status, transaction, modules = expected
    assert answer.status_code == status, answer.text
    assert (record.operation, record.status, record.modules) == (operation, status, modules)
    if transaction == "{id}":
        assert record.pdt_transaction_id == created
    elif transaction == "new":
        assert record.pdt_transaction_id == answer.json()["transactionId"]
    else:
        assert record.pdt_transaction_id is None
    assert (record.tenant, record.stage, record.side) == ("demo-dt", "pdt", "pdt")
    _assert_nothing_personal(records)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged"}, {"Authorization": "Basic ZGVtbzpkZW1v"}],
    ids=["no-token", "forged-token", "wrong-scheme"],
)
async def test_a_request_without_an_authenticated_tenant_is_not_recorded(
    settings: Settings, headers: dict[str, str]
) -> None:
    async with _proxy(settings) as client:
        answer = await client.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)
        assert answer.status_code == 401
    assert await _ledger(settings) == []


async def test_a_pack_tenant_records_the_pack(tmp_path: Path) -> None:
    secret = tmp_path / "packco-pdt-secret"
    secret.write_text("packco-pdt-secret", encoding="utf-8")
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(
        "tenants:\n"
        "  - id: packco\n    name: Pack Co\n    products: [datatrust-v1]\n"
        "    strategy: pack\n    pack: datatrust\n"
        f"    users: [{{username: packco, password_hash: '{hash_password('packco-secret')}'}}]\n"
        f"    pdt:\n      prd: {{username: packco-pdt, password: {{file: {secret}}}}}\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path, tenants_file=tenants)
    async with _proxy(settings) as client:
        await _create(client, await _login(client, "packco"))
    (record,) = await _ledger(settings)
    assert (record.tenant, record.modules) == ("packco", ("pack:datatrust",))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        # A success that cannot be recorded is not sent: the legacy 503 instead.
        (EXAMPLE, 503),
        # An error bills nothing: the client gets the error it earned.
        ({"Document": "123.456.789-00"}, 400),
    ],
    ids=["success-becomes-503", "error-unchanged"],
)
async def test_an_answer_whose_record_fails_is_never_a_success(
    settings: Settings, body: dict[str, Any], status: int
) -> None:
    async with _proxy(settings, BrokenStore()) as client:
        headers = await _login(client)
        answer = await client.post("/products/v1/datatrust", json=body, headers=headers)
    assert answer.status_code == status
    if status == 503:
        assert answer.json() == {"message": "The service is temporarily unavailable. Try again later."}


async def test_metering_can_be_turned_off_for_benchmarks(tmp_path: Path) -> None:
    base = make_settings(tmp_path)
    settings = base.model_copy(update={"ledger": base.ledger.model_copy(update={"enabled": False})})
    async with _proxy(settings) as client:
        await _create(client, await _login(client))
    # The file is the proxy's one database (stage overrides and shadow results live
    # there too, proxy.db), so it may exist: metering off means no ledger row in it.
    path = settings.data_dir / SQLITE_FILE
    if path.exists():
        store = SqliteStore(path)
        await store.open()
        try:
            assert await recent_records(store) == []
        finally:
            await store.close()


async def test_n_datatrust_requests_are_n_billable_transactions_for_the_demo_tenant(
    settings: Settings,
) -> None:
    """The issue's acceptance check, on the embedded defaults and the shipped pricing."""
    count = 7
    async with _proxy(settings) as client:
        headers = await _login(client)
        for _ in range(count):
            await _create(client, headers)
        month = Month.of(utc_now())
        answer = await client.get(
            "/admin/ledger",
            params={"month": str(month)},
            headers={"Authorization": "Bearer demo-admin-token"},
        )
    assert answer.status_code == 200, answer.text
    (line,) = answer.json()["lines"]
    assert (line["tenant"], line["product"]) == ("demo-dt", "datatrust-v1")
    assert line["billable_transactions"] == count
    assert line["module_transactions"] == 0
    assert line["excluded"] == {}
