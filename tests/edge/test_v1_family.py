"""FFR and Mobile Trust end to end: the older v1 family's client → proxy → PDT → legacy answer.

Against the simulators served on loopback ports for the documented flows (called as
real hosts, over the production transport: ``tests.support.loopback``), and against a
mocked PDT where the test must choose PDT's answer (the report caps, the relevance order).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import orjson
import pytest

from proxy.composition import create_app
from proxy.config import PdtEnvironment, PdtSettings, Settings, project_root
from proxy.deadline import Deadline
from proxy.mapping.examples import load_example
from proxy.runtime import Runtime
from proxy.simulators.otp import token_code
from proxy.tenants import hash_password
from proxy.upstream.pdt import PdtCall
from tests.conftest import ProxyFactory, make_settings
from tests.support.loopback import loopback_proxy

MAPPINGS = project_root() / "mappings"
PREFIXES = ["/v1", "/api/v1"]
DENIED = {"Message": "Authorization has been denied for this request."}

# spec/ffr.md, "Send a proposal": the documented example, verbatim.
FFR_EXAMPLE: dict[str, Any] = load_example("ffr", "score.request")

# spec/mobile-trust.md, "Request": the public client's body, verbatim.
MT_EXAMPLE: dict[str, Any] = load_example("mobile-trust", "transaction.request")


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.lower(): _lower_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_keys(item) for item in value]
    return value


def _validator(relative: str) -> jsonschema.Draft7Validator:
    schema = orjson.loads((MAPPINGS / relative).read_bytes())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


FFR_ANSWER = _validator("ffr/contract/score.response.json")
MT_ANSWER = _validator("mobile-trust/contract/transaction.response.json")
AUTH_ANSWER = _validator("v1-family/authenticate.response.json")


async def _authenticate(
    client: httpx.AsyncClient, user: str, *, prefix: str = "/v1", form: bool = False
) -> httpx.Response:
    credentials = {"name": user, "password": f"{user}-secret"}
    if form:
        return await client.post(f"{prefix}/authenticate", data=credentials)
    return await client.post(f"{prefix}/authenticate", json=credentials)


async def _bearer(client: httpx.AsyncClient, user: str, prefix: str = "/v1") -> dict[str, str]:
    answer = await _authenticate(client, user, prefix=prefix)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['Token']}"}


# --- authentication ---------------------------------------------------------------------------


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with loopback_proxy(tmp_path) as client:
        yield client


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
@pytest.mark.parametrize("user", ["demo-ffr", "demo-mt"])
async def test_authentication_in_both_encodings(
    proxy: httpx.AsyncClient, prefix: str, form: bool, user: str
) -> None:
    before = time.time()
    answer = await _authenticate(proxy, user, prefix=prefix, form=form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert list(body) == ["Token", "ExpirationDate"]
    AUTH_ANSWER.validate(body)
    assert len(body["Token"]) <= 2048
    # A Brasília wall-clock time, no offset, one hour (the token TTL) from now.
    expires = datetime.fromisoformat(body["ExpirationDate"]).replace(tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert before + 3600 - 2 <= expires.timestamp() <= time.time() + 3600 + 1


@pytest.mark.parametrize(
    ("send", "status", "body"),
    [
        pytest.param(
            {"json": {"name": "demo-ffr", "password": "wrong"}},
            401,
            {"Message": "The user name or password is incorrect."},
            id="wrong-password",
        ),
        pytest.param(
            {"data": {"name": "ghost", "password": "x"}},
            401,
            {"Message": "The user name or password is incorrect."},
            id="unknown-user-form",
        ),
        pytest.param(
            {"json": {"name": "demo-dt", "password": "demo-dt-secret"}},
            401,
            {"Message": "The user name or password is incorrect."},
            id="tenant-without-a-v1-family-product",
        ),
        pytest.param(
            {"json": {"name": "demo-ffr"}},
            400,
            {
                "Message": "The request is invalid.",
                "ModelState": {"password": ["The password field is required."]},
            },
            id="json-without-password",
        ),
        pytest.param(
            {"data": {"password": "x"}},
            400,
            {"Message": "The request is invalid.", "ModelState": {"name": ["The name field is required."]}},
            id="form-without-name",
        ),
        pytest.param(
            {"content": b"name=demo-ffr", "headers": {"content-type": "text/plain"}},
            415,
            {"Message": "The request entity's media type is not supported for this resource."},
            id="text-plain",
        ),
    ],
)
async def test_authentication_errors(
    proxy: httpx.AsyncClient, send: dict[str, Any], status: int, body: dict[str, Any]
) -> None:
    answer = await proxy.post("/v1/authenticate", **send)
    assert answer.status_code == status
    assert answer.json() == body


# --- Financial Fraud Radar ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("casing", ["documented", "lower"])
async def test_ffr_documented_example(proxy: httpx.AsyncClient, prefix: str, casing: str) -> None:
    body = FFR_EXAMPLE if casing == "documented" else _lower_keys(FFR_EXAMPLE)
    answer = await proxy.post(
        f"{prefix}/fintech/fraud/score", json=body, headers=await _bearer(proxy, "demo-ffr", prefix)
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    FFR_ANSWER.validate(result)
    assert list(result) == ["OrderID", "TransactionID", "Score", "Reports", "AttackAlerts"]
    assert result["OrderID"] == "FINTECH_20171205"
    assert isinstance(result["Score"], int)


async def test_ffr_same_person_same_answer(proxy: httpx.AsyncClient) -> None:
    headers = await _bearer(proxy, "demo-ffr")
    first = (await proxy.post("/v1/fintech/fraud/score", json=FFR_EXAMPLE, headers=headers)).json()
    second = (await proxy.post("/v1/fintech/fraud/score", json=FFR_EXAMPLE, headers=headers)).json()
    assert first["TransactionID"] != second["TransactionID"]
    assert {key: value for key, value in first.items() if key != "TransactionID"} == {
        key: value for key, value in second.items() if key != "TransactionID"
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"Cpf": "01234567891"}, "Cpf", "The Cpf field is not a valid CPF.", id="cpf-check-digit"
        ),
        pytest.param({"Cpf": None}, "Cpf", "Error converting value to type of Cpf.", id="cpf-null"),
        pytest.param(
            {"OrderDate": "28/12/2017"},
            "OrderDate",
            "The value is not a valid date for OrderDate.",
            id="date",
        ),
        pytest.param({"ValidatedTokenSMS": 2}, "ValidatedTokenSMS", None, id="flag-two"),
        pytest.param(
            {"Phones": [{"DDI": "55", "Number": "999999999"}]}, "Phones[0].DDD", None, id="phone-no-ddd"
        ),
        pytest.param({"Addresses": [{"ZipCode": "1234"}]}, "Addresses[0].ZipCode", None, id="zip"),
    ],
)
async def test_ffr_invalid_bodies(
    proxy: httpx.AsyncClient, change: dict[str, Any], field: str, message: str | None
) -> None:
    answer = await proxy.post(
        "/v1/fintech/fraud/score", json={**FFR_EXAMPLE, **change}, headers=await _bearer(proxy, "demo-ffr")
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["Message"] == "The request is invalid."
    assert list(body) == ["Message", "ModelState"]
    assert field in body["ModelState"], body
    if message is not None:
        assert body["ModelState"][field] == [message]


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"{not json", 400), (b"", 400), (b"[]", 400), (b"{" * 200 + b"}" * 200, 400)],
    ids=["malformed", "empty", "array", "deep"],
)
async def test_ffr_unparseable_bodies(proxy: httpx.AsyncClient, content: bytes, status: int) -> None:
    headers = {**await _bearer(proxy, "demo-ffr"), "content-type": "application/json"}
    answer = await proxy.post("/v1/fintech/fraud/score", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json()["Message"] == "The request is invalid."


# --- Mobile Trust -------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("block", [True, False])
async def test_mobile_trust_client_example(proxy: httpx.AsyncClient, prefix: str, block: bool) -> None:
    headers = await _bearer(proxy, "demo-mt", prefix)
    answer = await proxy.post(
        f"{prefix}/mobiletrust/transaction", json={**MT_EXAMPLE, "BlockSmsSending": block}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    created = answer.json()
    MT_ANSWER.validate(created)
    assert list(created) == ["TransactionID", "Document", "Ratings", "Insights", "Sms"]
    assert created["Document"] == "19678335832"
    assert created["Sms"] == {"Status": "Blocked" if block else "Sent"}
    read = await proxy.get(f"{prefix}/mobiletrust/transaction/{created['TransactionID']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == created


@asynccontextmanager
async def _proxy_with_runtime(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings)
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield client, app.runtime


@pytest.mark.parametrize(
    ("typed", "status"),
    [("right", "Confirmed"), ("wrong", "Denied")],
)
async def test_mobile_trust_sms_status_follows_the_pdt_token(
    settings: Settings, typed: str, status: str
) -> None:
    """The person answers the PDT code (here, straight at PDT); the legacy GET shows it."""
    async with _proxy_with_runtime(settings) as (client, runtime):
        headers = await _bearer(client, "demo-mt")
        created = await client.post(
            "/v1/mobiletrust/transaction", json={**MT_EXAMPLE, "BlockSmsSending": False}, headers=headers
        )
        transaction_id = created.json()["TransactionID"]
        right = token_code(transaction_id, "sms")
        code = right if typed == "right" else f"{(int(right) + 1) % 1_000_000:06d}"
        tenant = runtime.tenants.tenants["demo-mt"]
        call = PdtCall(tenant.credential("prd"), Deadline(5.0))
        await runtime.pdt.validate_token(call, transaction_id, "sms", code)
        read = await client.get(f"/v1/mobiletrust/transaction/{transaction_id}", headers=headers)
    assert read.status_code == 200
    assert read.json()["Sms"] == {"Status": status}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"Document": "19678335833"}, "Document", id="cpf-check-digit"),
        pytest.param({"AreaCode": "01"}, "AreaCode", id="area-code"),
        pytest.param({"AreaCode": [11]}, "AreaCode", id="area-code-array"),
        pytest.param({"Phone": "123"}, "Phone", id="phone"),
        pytest.param({"Email": "not-an-email"}, "Email", id="email"),
        pytest.param(
            {"AdditionalInformation": {"Nested": {"a": 1}}}, "AdditionalInformation.Nested", id="nested"
        ),
        pytest.param({"BlockSmsSending": "yes"}, "BlockSmsSending", id="block-text"),
    ],
)
async def test_mobile_trust_invalid_bodies(
    proxy: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    answer = await proxy.post(
        "/v1/mobiletrust/transaction", json={**MT_EXAMPLE, **change}, headers=await _bearer(proxy, "demo-mt")
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["Message"] == "The request is invalid."
    assert field in body["ModelState"], body


async def test_mobile_trust_missing_phone(proxy: httpx.AsyncClient) -> None:
    body = {key: value for key, value in MT_EXAMPLE.items() if key != "Phone"}
    answer = await proxy.post(
        "/v1/mobiletrust/transaction", json=body, headers=await _bearer(proxy, "demo-mt")
    )
    assert answer.status_code == 400
    assert answer.json()["ModelState"] == {"Phone": ["The Phone field is required."]}


@pytest.mark.parametrize("transaction_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
async def test_mobile_trust_unknown_transaction(proxy: httpx.AsyncClient, transaction_id: str) -> None:
    answer = await proxy.get(
        f"/v1/mobiletrust/transaction/{transaction_id}", headers=await _bearer(proxy, "demo-mt")
    )
    assert answer.status_code == 404
    assert answer.json() == {"Message": "Transaction not found."}


# --- products, tokens and routes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "method", "path", "status"),
    [
        pytest.param("demo-mt", "POST", "/v1/fintech/fraud/score", 403, id="mt-token-on-ffr"),
        pytest.param("demo-ffr", "POST", "/v1/mobiletrust/transaction", 403, id="ffr-token-on-mt"),
        pytest.param("demo-ffr", "GET", "/v1/mobiletrust/transaction/abc", 403, id="ffr-token-on-mt-get"),
    ],
)
async def test_a_token_reaches_only_its_products(
    proxy: httpx.AsyncClient, user: str, method: str, path: str, status: int
) -> None:
    headers = await _bearer(proxy, user)
    body = FFR_EXAMPLE if "fraud" in path else MT_EXAMPLE
    answer = await proxy.request(method, path, json=body if method == "POST" else None, headers=headers)
    assert answer.status_code == status
    assert answer.json() == DENIED


async def test_a_data_trust_token_is_refused_by_the_v1_family(proxy: httpx.AsyncClient) -> None:
    login = await proxy.post(
        "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    answer = await proxy.post("/v1/fintech/fraud/score", json=FFR_EXAMPLE, headers=headers)
    assert answer.status_code == 403
    assert answer.json() == DENIED


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer abc.def.ghi", "Basic ZGVtbzpkZW1v"],
    ids=["missing", "empty", "forged", "basic"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/fintech/fraud/score"),
        ("POST", "/v1/mobiletrust/transaction"),
        ("GET", "/v1/mobiletrust/transaction/abc"),
    ],
)
async def test_unauthorized(
    proxy: httpx.AsyncClient, authorization: str | None, method: str, path: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = await proxy.request(method, path, json={} if method == "POST" else None, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == DENIED


async def test_hml_token_is_refused_on_prd(proxy: httpx.AsyncClient) -> None:
    headers = await _bearer(proxy, "demo-ffr", "/api/v1")
    answer = await proxy.post("/v1/fintech/fraud/score", json=FFR_EXAMPLE, headers=headers)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/v1/fintech/fraud/score", 405, "The requested resource does not support this http method."),
        ("GET", "/v1/authenticate", 405, "The requested resource does not support this http method."),
        ("POST", "/v1/fintech/fraud/scores", 404, "No HTTP resource was found that matches the request URI."),
    ],
)
async def test_routing_errors_in_the_family_shape(
    proxy: httpx.AsyncClient, method: str, path: str, status: int, message: str
) -> None:
    answer = await proxy.request(method, path)
    assert answer.status_code == status
    assert answer.json() == {"Message": message}


# --- FFR caps and relevance order, against a PDT whose answer the test chooses -----------------


def _ffr_codes() -> list[dict[str, str]]:
    import csv

    with (MAPPINGS / "ffr" / "tables" / "codes.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _ffr_tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("BANK_PDT", "bank-pdt-secret")
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(
        "tenants:\n"
        "  - id: bank\n    name: bank\n    products: [ffr]\n"
        f"    users: [{{username: bank, password_hash: '{hash_password('bank-secret')}'}}]\n"
        "    pdt:\n      prd: {username: bank-pdt, password: {env: BANK_PDT}}\n",
        encoding="utf-8",
    )
    pdt = PdtSettings(environments={"prd": PdtEnvironment(base_url="https://pdt.example")})
    return make_settings(tmp_path, pdt=pdt, tenants_file=tenants)


def _insight(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "description": "PDT text",
        "type": "t",
        "category": "c",
        "relevance": "Alerta",
        "relatedTo": ["Document"],
    }


async def test_ffr_caps_keep_the_most_relevant_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy_factory: ProxyFactory
) -> None:
    rows = _ffr_codes()
    by_section = {
        section: [row for row in rows if row["section"] == section]
        for section in ("Negative", "Positive", "AttackAlert")
    }
    assert len(by_section["Negative"]) >= 20
    # PDT answers the least relevant first, so the proxy must reorder.
    negatives = sorted(by_section["Negative"], key=lambda row: int(row["weight"]))[:20]
    insights = [_insight(row["pdt_code"]) for row in negatives]
    insights += [_insight(row["pdt_code"]) for row in by_section["Positive"][:5]]
    insights += [_insight(row["pdt_code"]) for row in by_section["AttackAlert"][:5]]
    insights.append(_insight("ZZZ0001"))  # no FFR variable: dropped and counted
    stamp = "2026-11-22T10:00:00Z"
    transaction = {
        "id": "t-1",
        "createdAt": stamp,
        "referenceDate": stamp,
        "documentType": "CPF",
        "document": "01234567890",
        "identifierId": "FINTECH_20171205",
    }
    seen: list[str] = []

    def pdt(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/authentication":
            return httpx.Response(200, json={"token": "t", "expiresInSeconds": 7200})
        if request.url.path == "/v1/transaction":
            return httpx.Response(201, json=transaction)
        if request.url.path.endswith("/scores"):
            return httpx.Response(201, json=[{"value": 87.5, "reason": "Initial", "createdAt": stamp}])
        if request.url.path.endswith("/insights"):
            return httpx.Response(201, json=insights)
        return httpx.Response(404, json={"message": "unexpected"})

    settings = _ffr_tenant(tmp_path, monkeypatch)
    # A real PDT host: the demo admin token is off, so /metrics is read with a configured one.
    security = settings.security.model_copy(update={"admin_token": "ffr-test-admin-token"})
    settings = settings.model_copy(update={"security": security})
    async with proxy_factory(settings, transport=httpx.MockTransport(pdt)) as client:
        headers = await _bearer(client, "bank")
        answer = await client.post("/v1/fintech/fraud/score", json=FFR_EXAMPLE, headers=headers)
        viewer = {"Authorization": "Bearer ffr-test-admin-token"}
        metrics = (await client.get("/metrics", headers=viewer)).text
    assert answer.status_code == 200, answer.text
    result = answer.json()
    FFR_ANSWER.validate(result)

    def expected(section: str, cap: int, offered: list[dict[str, str]]) -> list[dict[str, str]]:
        ranked = sorted(offered, key=lambda row: -int(row["weight"]))[:cap]
        return [{"Code": row["ffr_code"], "Description": row["description"]} for row in ranked]

    assert len(result["Reports"]["Negative"]) == 7
    assert result["Reports"]["Negative"] == expected("Negative", 7, negatives)
    assert result["Reports"]["Positive"] == expected("Positive", 3, by_section["Positive"][:5])
    assert result["AttackAlerts"] == expected("AttackAlert", 3, by_section["AttackAlert"][:5])
    assert result["Score"] == 88  # 87.5 rounds half to even
    assert result["OrderID"] == "FINTECH_20171205"
    # Score and insights only: FFR never had ratings.
    assert sorted(seen) == sorted(
        [
            "POST /v1/authentication",
            "POST /v1/transaction",
            "POST /v1/transaction/t-1/scores",
            "POST /v1/transaction/t-1/insights",
        ]
    )
    unmapped = [line for line in metrics.splitlines() if line.startswith("pdt_proxy_unmapped_codes_total{")]
    assert len(unmapped) == 1
    assert unmapped[0].endswith(" 1.0")
    for label in ('code="ZZZ0001"', 'table="codes"', 'tenant="bank"'):
        assert label in unmapped[0]
