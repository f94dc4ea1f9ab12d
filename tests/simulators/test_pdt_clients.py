"""The request shapes of the three public PDT clients (research/real-clients.md), and real
input the reconstructed patterns used to refuse, all accepted by the simulator."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from .support import ACCOUNTS, BARE_PERSON, FULL_PERSON, Pdt

PLUS_JSON = {"Content-Type": "application/*+json"}


async def _login(pdt: Pdt, body: dict[str, str], headers: dict[str, str] | None = None) -> dict[str, str]:
    answer = await pdt.client.post("/v1/authentication", content=orjson.dumps(body), headers=headers)
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert isinstance(token, str)
    assert token
    return {"Authorization": f"Bearer {token}"}


async def _post(pdt: Pdt, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    content = None if body is None else orjson.dumps(body)
    return await pdt.client.post(path, content=content, headers=headers)


async def test_typescript_storefront_client(pdt: Pdt) -> None:
    # PascalCase login; a PascalCase Vehicle its type allows; reads id and createdAt.
    auth = await _login(pdt, {"Username": "acme", "Password": ACCOUNTS["acme"]})
    created = await _post(pdt, "/v1/transaction", {**FULL_PERSON, "Vehicle": {"Plate": "ABC1D23"}}, auth)
    assert created.status_code == 201, created.text
    transaction_id = created.json()["id"]
    assert created.json()["createdAt"]
    assert "Vehicle" not in created.json()
    read = await pdt.client.get(f"/v1/transaction/{transaction_id}", headers=auth)
    assert read.status_code == 200
    assert (await pdt.client.get(f"/v1/transaction/{transaction_id}/scores", headers=auth)).status_code == 404
    scored = await _post(pdt, f"/v1/transaction/{transaction_id}/scores", None, auth)
    assert scored.status_code == 201
    assert (
        await pdt.client.get(f"/v1/transaction/{transaction_id}/scores", headers=auth)
    ).json() == scored.json()


async def test_python_aiohttp_client(pdt: Pdt) -> None:
    # application/*+json everywhere, a phone whose type is null, module POSTs without a body;
    # it requires 200 on login and 201 on the transaction and each module.
    auth = await _login(pdt, {"Username": "acme", "Password": ACCOUNTS["acme"]}, PLUS_JSON)
    person = {**FULL_PERSON, "phone": {"type": None, "countryCode": 55, "areaCode": 11, "number": 988887777}}
    created = await _post(pdt, "/v1/transaction", person, {**auth, **PLUS_JSON})
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == {"countryCode": 55, "areaCode": 11, "number": 988887777}
    for module in ("scores", "ratings", "insights"):
        answer = await pdt.client.post(f"/v1/transaction/{created.json()['id']}/{module}", headers=auth)
        assert answer.status_code == 201, (module, answer.text)
        assert isinstance(answer.json(), list)


async def test_node_service_client(pdt: Pdt) -> None:
    # Lower-case login members; '' for a missing zip code; null for a missing phone.
    auth = await _login(pdt, {"username": "acme", "password": ACCOUNTS["acme"]})
    person = {**BARE_PERSON, "email": "ana@example.com", "address": {"zipCode": ""}, "phone": None}
    created = await _post(pdt, "/v1/transaction", person, auth)
    assert created.status_code == 201, created.text
    assert created.json()["address"] == {"zipCode": ""}


async def test_a_lower_case_login_with_a_wrong_password_is_still_401(pdt: Pdt) -> None:
    answer = await pdt.client.post("/v1/authentication", json={"username": "acme", "password": "wrong"})
    assert answer.status_code == 401


# Real input that reconstructed rules refused: (change to a full person, what is stored)
ACCEPTED: list[Any] = [
    pytest.param(
        {"address": {"zipCode": "01001-000"}}, {"address": {"zipCode": "01001-000"}}, id="zip-with-dash"
    ),
    pytest.param(
        {"identifierDate": "2026-11-22T10:00:00-03:00"},
        {"identifierDate": "2026-11-22T10:00:00-03:00"},
        id="date-with-offset",
    ),
    pytest.param(
        {"phone": {"areaCode": "11", "number": "988887777"}},
        {"phone": {"areaCode": 11, "number": 988887777}},
        id="numbers-as-strings",
    ),
    pytest.param(
        {"phone": {"number": 988887777}}, {"phone": {"number": 988887777}}, id="phone-without-area-code"
    ),
    pytest.param({"documentType": "RG"}, {"documentType": "RG"}, id="another-document-type"),
    pytest.param(
        {"card": {"bin": "4111", "last4": "1"}},
        {"card": {"bin": "4111", "last4": "1"}},
        id="short-card-digits",
    ),
    pytest.param(
        {
            "fatherName": "x",
            "gender": "M",
            "tradeName": "x",
            "cnaes": [],
            "issuanceDateDocument": "2020-01-01",
        },
        {},
        id="newer-members",
    ),
]


@pytest.mark.parametrize(("change", "stored"), ACCEPTED)
async def test_real_input_is_accepted(pdt: Pdt, change: dict[str, Any], stored: dict[str, Any]) -> None:
    answer = await pdt.client.post("/v1/transaction", json={**FULL_PERSON, **change}, headers=pdt.headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert {key: body[key] for key in stored} == stored
    assert not set(change) - set(stored) & set(body)
