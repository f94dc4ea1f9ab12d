"""Helpers shared by the simulator tests: the app, a logged-in client, the PDT schemas."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jsonschema
from starlette.applications import Starlette

from proxy.config import SimulatorSettings, project_root
from proxy.simulators.pdt import create_pdt_simulator
from proxy.simulators.state import PdtSimulator

PDT_DIR = project_root() / "mappings" / "pdt"
CATALOGUE = PDT_DIR / "insights.csv"
SCHEMAS = PDT_DIR / "schemas"
ACCOUNTS = {"acme": "acme-secret", "globex": "globex-secret"}
FULL_PERSON: dict[str, Any] = {
    "identifierId": "order-1",
    "documentType": "CPF",
    "document": "12345678909",
    "name": "Maria Silva",
    "email": "maria@example.com",
    "birthdate": "1990-04-01",
    "sessionId": "f1a2b3",
    "phone": {"countryCode": 55, "areaCode": 11, "number": 988887777},
    "address": {"zipCode": "01001000", "city": "São Paulo", "state": "SP"},
    "identifierDate": "2026-11-22T10:00:00Z",
}
BARE_PERSON: dict[str, Any] = {"documentType": "CPF", "document": "98765432100"}


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Pdt:
    """A client on one simulator app, logged in as ``acme`` unless told otherwise."""

    app: Starlette
    client: httpx.AsyncClient
    headers: dict[str, str]

    @property
    def sim(self) -> PdtSimulator:
        simulator: PdtSimulator = self.app.state.simulator
        return simulator

    async def login(self, username: str) -> dict[str, str]:
        answer = await self.client.post(
            "/v1/authentication", json={"Username": username, "Password": ACCOUNTS[username]}
        )
        assert answer.status_code == 200
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    async def create(self, person: Mapping[str, Any] = FULL_PERSON) -> dict[str, Any]:
        answer = await self.client.post("/v1/transaction", json=dict(person), headers=self.headers)
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        return body


def make_app(settings: SimulatorSettings | None = None, **options: Any) -> Starlette:
    return create_pdt_simulator(
        settings or SimulatorSettings(), catalogue_path=CATALOGUE, accounts=ACCOUNTS, **options
    )


@asynccontextmanager
async def open_pdt(app: Starlette) -> AsyncIterator[Pdt]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pdt.test") as client:
        pdt = Pdt(app, client, {})
        pdt.headers = await pdt.login("acme")
        yield pdt


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def assert_conforms(body: Any, schema_name: str) -> None:
    validator = jsonschema.Draft7Validator(schema(schema_name))
    problems = [error.message for error in validator.iter_errors(body)]
    assert not problems, f"{schema_name}: {problems}"
