"""PDT's names are data: a copy of mappings/ with the SMS token path and its all-results key
renamed makes both the proxy and the built-in simulator use the new names, with no
Python change (issue 16, part 3)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.config import SimulatorSettings, project_root
from proxy.mapping.examples import load_example
from proxy.simulators.otp import token_code
from proxy.simulators.pdt import create_pdt_simulator
from tests.conftest import make_settings, running_proxy

MAPPINGS = project_root() / "mappings"
NEW_PATH, NEW_VALIDATE, NEW_KEY = "sms/codes", "sms/codes/check", "smsCodes"
MT_EXAMPLE: dict[str, Any] = load_example("mobile-trust", "transaction.request")
DT_EXAMPLE = {
    "Document": "12345678909",
    "Email": "ana@example.com",
    "Phone": {"AreaCode": "11", "Number": "988887777"},
}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def renamed(tmp_path: Path) -> Path:
    """Only data changes: the vocabulary, the all-results schema and the mapping reading the key."""
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    vocabulary = mappings / "pdt" / "vocabulary.yaml"
    _replace(vocabulary, "path: sms/tokens ", f"path: {NEW_PATH} ")
    _replace(vocabulary, "validate: sms/tokens/validate ", f"validate: {NEW_VALIDATE} ")
    _replace(vocabulary, "view_key: smsTokens ", f"view_key: {NEW_KEY} ")
    _replace(mappings / "pdt" / "schemas" / "all.response.json", '"smsTokens": {', f'"{NEW_KEY}": {{')
    _replace(
        mappings / "mobile-trust" / "operations" / "transaction-create.yaml",
        "from: smsTokens[-1].status",
        f"from: {NEW_KEY}[-1].status",
    )
    return mappings


async def test_the_simulator_serves_the_renamed_names(renamed: Path) -> None:
    app = create_pdt_simulator(
        SimulatorSettings(), catalogue_path=renamed / "pdt" / "insights.csv", accounts={"acme": "pw"}
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdt.test") as pdt:
        login = await pdt.post("/v1/authentication", json={"Username": "acme", "Password": "pw"})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        person = {
            "documentType": "CPF",
            "document": "12345678909",
            "phone": {"areaCode": 11, "number": 988887777},
        }
        transaction = (
            f"/v1/transaction/{(await pdt.post('/v1/transaction', json=person, headers=auth)).json()['id']}"
        )
        assert (await pdt.post(f"{transaction}/sms/tokens", headers=auth)).status_code == 404
        assert (await pdt.post(f"{transaction}/{NEW_PATH}", headers=auth)).status_code == 201
        everything = (await pdt.get(f"{transaction}/all", headers=auth)).json()
        assert [token["status"] for token in everything[NEW_KEY]] == ["Waiting"]
        assert "smsTokens" not in everything
        check = await pdt.post(f"{transaction}/{NEW_VALIDATE}", json={"value": "000000"}, headers=auth)
        assert check.status_code == 200
        assert check.json()["type"] == "Sms"


async def test_the_proxy_calls_and_reads_the_renamed_names(tmp_path: Path, renamed: Path) -> None:
    settings = make_settings(tmp_path, mappings_dir=renamed)
    async with running_proxy(settings) as proxy:
        # Mobile Trust: the SMS follow-up is sent on the new path and read under the new key,
        # on the POST (the proxy's own view) and on the GET (the simulator's all-results).
        login = await proxy.post("/v1/authenticate", json={"name": "demo-mt", "password": "demo-mt-secret"})
        mt = {"Authorization": f"Bearer {login.json()['Token']}"}
        created = await proxy.post(
            "/v1/mobiletrust/transaction", json={**MT_EXAMPLE, "BlockSmsSending": False}, headers=mt
        )
        assert created.status_code == 200, created.text
        assert created.json()["Sms"] == {"Status": "Sent"}
        read = await proxy.get(f"/v1/mobiletrust/transaction/{created.json()['TransactionID']}", headers=mt)
        assert read.json()["Sms"] == {"Status": "Sent"}
        # Data Trust v1: the token calls go to the new send and validate paths.
        login = await proxy.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        dt = {"Authorization": f"Bearer {login.json()['token']}"}
        transaction = (await proxy.post("/products/v1/datatrust", json=DT_EXAMPLE, headers=dt)).json()
        base = f"/products/v1/datatrust/{transaction['transactionId']}/token"
        sent = await proxy.post(base, json={"Channel": "Sms"}, headers=dt)
        assert sent.status_code == 201, sent.text
        code = token_code(transaction["transactionId"], "sms")
        valid = await proxy.post(f"{base}/validate", json={"Channel": "Sms", "Value": code}, headers=dt)
        assert valid.status_code == 200, valid.text
        assert valid.json()["status"] == "Valid"
