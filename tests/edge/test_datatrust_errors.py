"""The Data Trust v1 error table, case by case (spec/datatrust-v1.md, "Errors")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.config import Settings
from proxy.edge.tokens import LegacyTokens
from proxy.keys import TOKEN_KEY, load_key
from proxy.tenants import hash_password
from tests.conftest import ProxyFactory, make_settings

DENIED = {"message": "Authorization has been denied for this request."}
VALID = {"Document": "12345678909", "Email": "a@example.com"}


async def _headers(
    client: httpx.AsyncClient, user: str = "demo-dt", prefix: str = "/products/v1"
) -> dict[str, str]:
    answer = await client.post(
        f"{prefix}/authentication", json={"Username": user, "Password": f"{user}-secret"}
    )
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _token(
    settings: Settings, *, key: bytes | None = None, now: float = 0.0, environment: str = "prd"
) -> str:
    signing_key = key or load_key(TOKEN_KEY, None, settings.data_dir, shared_database=False)
    tokens = LegacyTokens(signing_key, ttl_s=60, clock=(lambda: now) if now else __import__("time").time)
    return tokens.issue(
        tenant_id="demo-dt", username="demo-dt", environment=environment, products=["datatrust-v1"]
    )[0]


@pytest.mark.parametrize(
    "authorization",
    [
        lambda settings: None,
        lambda settings: "Bearer",
        lambda settings: "Bearer abc.def.ghi",
        lambda settings: f"Bearer {_token(settings, now=1_000_000.0)}",
        lambda settings: f"Bearer {_token(settings, key=b'f' * 32)}",
        lambda settings: f"Bearer {_token(settings, environment='hml')}",
    ],
    ids=["missing", "empty", "malformed", "expired", "forged", "other-environment"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/products/v1/datatrust"),
        ("GET", "/products/v1/datatrust/abc"),
        ("POST", "/products/v1/datatrust/abc/token"),
        ("POST", "/products/v1/datatrust/abc/token/validate"),
    ],
    ids=["post", "get", "token", "validate"],
)
async def test_unauthorized(
    proxy: httpx.AsyncClient, settings: Settings, authorization: Any, method: str, path: str
) -> None:
    value = authorization(settings)
    headers = {"Authorization": value} if value is not None else {}
    answer = await proxy.request(method, path, json=VALID, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == DENIED


@pytest.mark.parametrize(
    ("content", "content_type", "field", "message"),
    [
        (b"{not json", "application/json", "$", "The request body is not valid JSON."),
        (b"", "application/json", "", "A non-empty request body is required."),
        (b"[1, 2]", "application/json", "$", "The request body is not valid JSON."),
        (b'{"Email": "a@example.com"}', "application/json", "Document", "The Document field is required."),
        (
            b'{"Document": "123.456.789-00"}',
            "application/json",
            "Document",
            "The Document field is not a valid CPF.",
        ),
        (
            b'{"Document": "11111111111"}',
            "application/json",
            "Document",
            "The Document field is not a valid CPF.",
        ),
        (
            b'{"Document": "12345678909", "DocumentType": "CNPJ"}',
            "application/json",
            "Document",
            "The Document field is not a valid CNPJ.",
        ),
        (
            b'{"Document": 12345678909}',
            "application/json",
            "Document",
            "The JSON value could not be converted to the type of Document.",
        ),
        (
            b'{"Document": "12345678909", "BirthDate": "17/05/1990"}',
            None,
            "BirthDate",
            "The field BirthDate must be a date in the format yyyy-MM-dd.",
        ),
        (
            b'{"Document": "12345678909", "Phone": {"AreaCode": "11"}}',
            "application/json",
            "Phone.Number",
            "The Number field is required.",
        ),
        (
            b'{"Document": "12345678909", "ZipCode": "123"}',
            "application/json",
            "ZipCode",
            "The field ZipCode is invalid.",
        ),
        (
            b'{"Document": "12345678909", "IdentifierId": "' + b"x" * 101 + b'"}',
            "application/json",
            "IdentifierId",
            "The field IdentifierId must be a string with a maximum length of 100.",
        ),
    ],
    ids=[
        "bad-json",
        "empty",
        "array",
        "missing-document",
        "cpf-check-digits",
        "cpf-repeated-digits",
        "cnpj-check-digits",
        "document-number",
        "birthdate-format",
        "phone-number-missing",
        "zip-code",
        "identifier-too-long",
    ],
)
async def test_invalid_bodies_are_problem_details(
    proxy: httpx.AsyncClient, content: bytes, content_type: str | None, field: str, message: str
) -> None:
    headers = await _headers(proxy)
    if content_type:
        headers["Content-Type"] = content_type
    answer = await proxy.post("/products/v1/datatrust", content=content, headers=headers)
    assert answer.status_code == 400
    body = answer.json()
    assert list(body) == ["errors", "type", "title", "status", "traceId"]
    assert body["title"] == "One or more validation errors occurred."
    assert body["status"] == 400
    assert body["traceId"] == answer.headers["x-request-id"]
    assert body["errors"][field] == [message]


async def test_authentication_body_errors(proxy: httpx.AsyncClient) -> None:
    answer = await proxy.post("/products/v1/authentication", json={"Username": "demo-dt"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"Password": ["The Password field is required."]}


async def test_unsupported_media_type(proxy: httpx.AsyncClient) -> None:
    headers = {**await _headers(proxy), "Content-Type": "text/plain"}
    answer = await proxy.post(
        "/products/v1/datatrust", content=b'{"Document": "12345678909"}', headers=headers
    )
    assert answer.status_code == 415
    assert "message" in answer.json()


async def test_payload_too_large(proxy: httpx.AsyncClient) -> None:
    body = b'{"Document": "12345678909", "Name": "' + b"x" * 70_000 + b'"}'
    answer = await proxy.post("/products/v1/datatrust", content=body, headers=await _headers(proxy))
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request body too large."}


async def test_deeply_nested_json_is_refused(proxy: httpx.AsyncClient) -> None:
    body = b'{"Document": "12345678909", "Extra": ' + b"[" * 200 + b"]" * 200 + b"}"
    answer = await proxy.post("/products/v1/datatrust", content=body, headers=await _headers(proxy))
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "transaction_id",
    ["0b9c7a51-1d1c-4d6a-9d55-3f3c1d1d1d1d", "a..b", "bad%3Fid", "semi;colon", "x" * 300],
    ids=["unknown", "dots", "encoded-question-mark", "semicolon", "too-long"],
)
async def test_unknown_transaction_is_404(proxy: httpx.AsyncClient, transaction_id: str) -> None:
    headers = await _headers(proxy)
    answer = await proxy.get(f"/products/v1/datatrust/{transaction_id}", headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"message": "Transaction not found"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        (
            "GET",
            "/products/v1/unknown",
            404,
            {"message": "No resource was found that matches the request URI."},
        ),
        (
            "DELETE",
            "/products/v1/datatrust",
            405,
            {"message": "The requested resource does not support this HTTP method."},
        ),
        ("GET", "/nowhere", 404, {"message": "Not Found"}),
    ],
    ids=["unknown-route", "wrong-method", "outside-any-product"],
)
async def test_routing_errors_are_json(
    proxy: httpx.AsyncClient, method: str, path: str, status: int, body: dict[str, str]
) -> None:
    answer = await proxy.request(method, path)
    assert answer.status_code == status
    assert answer.json() == body


def _two_datatrust_tenants(tmp_path: Path) -> Path:
    path = tmp_path / "tenants.yaml"
    entries = []
    for name in ("alpha", "beta"):
        entries.append(
            f"  - id: {name}\n    name: {name}\n    demo: true\n    products: [datatrust-v1]\n"
            f"    users: [{{username: {name}, password_hash: '{hash_password(name + '-secret')}'}}]\n"
            f"    pdt:\n      prd: {{username: {name}-pdt, password: {{value: {name}-pdt-secret}}}}\n"
        )
    path.write_text("tenants:\n" + "".join(entries), encoding="utf-8")
    return path


def _real_pdt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **pdt: Any) -> Settings:
    """Settings with PDT on a (mocked) real host and the two tenants' secrets in the environment."""
    from proxy.config import PdtEnvironment, PdtSettings

    tenants = tmp_path / "tenants.yaml"
    text = _two_datatrust_tenants(tmp_path).read_text().replace("demo: true", "demo: false")
    for name in ("alpha", "beta"):
        text = text.replace(f"{{value: {name}-pdt-secret}}", f"{{env: {name.upper()}_PDT}}")
        monkeypatch.setenv(f"{name.upper()}_PDT", f"{name}-pdt-secret")
    tenants.write_text(text, encoding="utf-8")
    environments = {"prd": PdtEnvironment(base_url="https://pdt.example")}
    return make_settings(tmp_path, pdt=PdtSettings(environments=environments, **pdt), tenants_file=tenants)


async def test_a_tenant_cannot_read_another_tenants_transaction(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    settings = make_settings(tmp_path, tenants_file=_two_datatrust_tenants(tmp_path))
    async with proxy_factory(settings) as client:
        alpha, beta = await _headers(client, "alpha"), await _headers(client, "beta")
        created = (await client.post("/products/v1/datatrust", json=VALID, headers=alpha)).json()
        path = f"/products/v1/datatrust/{created['transactionId']}"
        assert (await client.get(path, headers=alpha)).status_code == 200
        stolen = await client.get(path, headers=beta)
        assert stolen.status_code == 404
        assert stolen.json() == {"message": "Transaction not found"}
        token = await client.post(f"{path}/token", json={"Channel": "Sms"}, headers=beta)
        assert token.status_code == 404
        # beta has no HML account: its HML token authenticates but PDT access is refused.
        hml = await _headers(client, "beta", "/api/products/v1")
        refused = await client.post("/api/products/v1/datatrust", json=VALID, headers=hml)
        assert refused.status_code == 403


async def test_demo_tenants_are_refused_when_pdt_is_a_real_host(
    tmp_path: Path, proxy_factory: ProxyFactory
) -> None:
    from proxy.config import PdtEnvironment, PdtSettings

    calls: list[httpx.Request] = []

    def never(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    pdt = PdtSettings(
        environments={"prd": PdtEnvironment(base_url="https://pdt.example"), "hml": PdtEnvironment()}
    )
    settings = make_settings(tmp_path, pdt=pdt)
    async with proxy_factory(settings, transport=httpx.MockTransport(never)) as client:
        answer = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
    assert answer.status_code == 400
    assert answer.json() == {"message": "Username or Password is incorrect"}
    assert calls == []


@pytest.mark.parametrize(
    ("pdt_status", "legacy_status"),
    [(500, 503), (502, 503), (503, 503), (504, 503), (429, 503), (400, 502), (401, 502)],
)
async def test_pdt_failures_become_legacy_errors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxy_factory: ProxyFactory,
    pdt_status: int,
    legacy_status: int,
) -> None:
    def pdt(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/authentication":
            return httpx.Response(200, json={"token": "t", "expiresInSeconds": 7200})
        return httpx.Response(
            pdt_status, json={"message": "internal detail 123.456.789-09", "stack": "at X.Y()"}
        )

    async with proxy_factory(_real_pdt(tmp_path, monkeypatch), transport=httpx.MockTransport(pdt)) as client:
        answer = await client.post(
            "/products/v1/datatrust", json=VALID, headers=await _headers(client, "alpha")
        )
    assert answer.status_code == legacy_status
    assert list(answer.json()) == ["message"]
    assert "internal detail" not in answer.text
    assert "stack" not in answer.text


async def test_a_pdt_that_never_answers_gets_the_legacy_504_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy_factory: ProxyFactory
) -> None:
    import asyncio

    async def silent(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/authentication":
            return httpx.Response(200, json={"token": "t", "expiresInSeconds": 7200})
        await asyncio.Event().wait()  # never set: PDT hangs
        raise AssertionError("unreachable")

    settings = _real_pdt(tmp_path, monkeypatch, request_deadline_s=0.2)
    async with proxy_factory(settings, transport=httpx.MockTransport(silent)) as client:
        answer = await client.post(
            "/products/v1/datatrust", json=VALID, headers=await _headers(client, "alpha")
        )
    assert answer.status_code == 504
    assert answer.json() == {"message": "The service did not answer in time. Try again later."}
