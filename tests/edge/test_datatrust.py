"""Data Trust v1 end to end: legacy client → proxy → PDT simulator on a loopback port → legacy answer.

The proxy calls the simulator as a real host (``tests.support.loopback``), so every
case crosses the production transport: aiohttp, the socket, the pool, the allowlist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest

from proxy.config import project_root
from proxy.simulators.otp import token_code
from tests.support.loopback import loopback_proxy

PREFIXES = ["/products/v1", "/api/products/v1"]
CONTRACT = project_root() / "mappings" / "datatrust-v1" / "contract"

# The request of spec/datatrust-v1.md, field by field, in the PascalCase of the auth call.
EXAMPLE = {
    "IdentifierId": "pedido-123",
    "DocumentType": "CPF",
    "Document": "123.456.789-09",
    "Name": "Maria da Silva",
    "BirthDate": "1990-05-17",
    "Email": "maria@example.com",
    "Phone": {"CountryCode": "55", "AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
    "SessionId": "cd161347af40806c",
}


@pytest.fixture
async def proxy(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with loopback_proxy(tmp_path) as client:
        yield client


def _lower(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.lower(): _lower(item) for key, item in value.items()}
    return value


def _upper(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.upper(): _upper(item) for key, item in value.items()}
    return value


def _schema(name: str) -> dict[str, Any]:
    return orjson.loads((CONTRACT / name).read_bytes())  # type: ignore[no-any-return]


def _assert_conforms(body: Any, schema_file: str) -> None:
    jsonschema.Draft7Validator(_schema(schema_file), format_checker=jsonschema.FormatChecker()).validate(body)


async def _token(client: httpx.AsyncClient, prefix: str = "/products/v1", user: str = "demo-dt") -> str:
    answer = await client.post(
        f"{prefix}/authentication", json={"Username": user, "Password": f"{user}-secret"}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(
    "credentials",
    [
        {"Username": "demo-dt", "Password": "demo-dt-secret"},
        {"username": "demo-dt", "password": "demo-dt-secret"},
    ],
    ids=["pascal", "lower"],
)
async def test_authentication(proxy: httpx.AsyncClient, prefix: str, credentials: dict[str, str]) -> None:
    answer = await proxy.post(f"{prefix}/authentication", json=credentials)
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["token", "expiresInSeconds"]
    assert len(body["token"]) <= 2048
    assert body["expiresInSeconds"] == 7200  # datatrust-v1/product.yaml token_lifetime
    _assert_conforms(body, "authentication.response.json")


@pytest.mark.parametrize(
    "credentials",
    [
        {"Username": "demo-dt", "Password": "nope"},
        {"Username": "nobody", "Password": "demo-dt-secret"},
        {"Username": "demo-ffr", "Password": "demo-ffr-secret"},
    ],
    ids=["wrong-password", "unknown-user", "tenant-without-datatrust"],
)
async def test_bad_credentials_are_400_with_the_documented_body(
    proxy: httpx.AsyncClient, credentials: dict[str, str]
) -> None:
    answer = await proxy.post("/products/v1/authentication", json=credentials)
    assert answer.status_code == 400
    assert answer.json() == {"message": "Username or Password is incorrect"}


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("casing", [lambda body: body, _lower, _upper], ids=["pascal", "lower", "upper"])
async def test_documented_example_gets_the_documented_shape(
    proxy: httpx.AsyncClient, prefix: str, casing: Any
) -> None:
    token = await _token(proxy, prefix)
    answer = await proxy.post(f"{prefix}/datatrust", json=casing(EXAMPLE), headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    _assert_conforms(body, "transaction.response.json")
    assert list(body) == ["transactionId", "identifierId", "createdAt", "score", "ratings", "insights"]
    assert body["identifierId"] == "pedido-123"
    assert {rating["relatedTo"] for rating in body["ratings"]} == {
        "CPF_EMAIL",
        "CPF_PHONE",
        "CPF_CEP",
        "PHONE_EMAIL",
        "PHONE_CEP",
        "EMAIL_CEP",
    }
    assert round(body["score"], 2) == body["score"]


async def test_same_person_same_answer_and_get_returns_the_post_body(proxy: httpx.AsyncClient) -> None:
    headers = _bearer(await _token(proxy))
    first = (await proxy.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)).json()
    second = (await proxy.post("/products/v1/datatrust", json=_lower(EXAMPLE), headers=headers)).json()
    assert first["transactionId"] != second["transactionId"]
    assert (first["score"], first["ratings"], first["insights"]) == (
        second["score"],
        second["ratings"],
        second["insights"],
    )
    again = await proxy.get(f"/products/v1/datatrust/{first['transactionId']}", headers=headers)
    assert again.status_code == 200
    assert again.json() == first


async def test_document_only_request_gets_score_and_insights_without_ratings(
    proxy: httpx.AsyncClient,
) -> None:
    headers = _bearer(await _token(proxy))
    answer = await proxy.post("/products/v1/datatrust", json={"Document": "12345678909"}, headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["ratings"] == []
    assert body["identifierId"] is None
    _assert_conforms(body, "transaction.response.json")


@pytest.mark.parametrize(("channel", "pdt_channel"), [("Sms", "sms"), ("Email", "email")])
async def test_token_send_and_validate(proxy: httpx.AsyncClient, channel: str, pdt_channel: str) -> None:
    headers = _bearer(await _token(proxy))
    created = (await proxy.post("/products/v1/datatrust", json=EXAMPLE, headers=headers)).json()
    base = f"/products/v1/datatrust/{created['transactionId']}/token"
    sent = await proxy.post(base, json={"channel": channel}, headers=headers)
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "Waiting"
    _assert_conforms(sent.json(), "token.response.json")
    wrong = await proxy.post(
        f"{base}/validate", json={"Channel": channel, "Value": "000000"}, headers=headers
    )
    assert wrong.status_code == 200
    assert wrong.json()["status"] == "Invalid"
    good = await proxy.post(
        f"{base}/validate",
        json={"Channel": channel, "Value": token_code(created["transactionId"], pdt_channel)},
        headers=headers,
    )
    assert good.status_code == 200
    assert good.json()["status"] == "Valid"
    assert good.json()["type"] == channel
    _assert_conforms(good.json(), "token-validate.response.json")
