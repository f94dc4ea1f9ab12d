"""Helpers shared by the legacy simulator tests: the app, logged-in clients, the spec
examples, and an oracle that reads the DE-PARA CSV files directly."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import httpx
import jsonschema
from starlette.applications import Starlette

from proxy.config import project_root
from proxy.mapping.catalog import MappingCatalog, Product, load_catalog
from proxy.mapping.examples import load_example
from proxy.mapping.operation import Operation
from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy import LegacySimulatorSettings, create_legacy_simulator
from proxy.simulators.legacy.middleware import Sleep
from proxy.simulators.legacy.state import LegacySimulator
from proxy.simulators.profile import PersonProfile

from .support import FakeClock

MAPPINGS: Final = project_root() / "mappings"
DT_PRD: Final = "/products/v1"
DT_HML: Final = "/api/products/v1"
V1_PRD: Final = "/v1"
V1_HML: Final = "/api/v1"
ACCOUNTS: Final = {
    "dt-user": "dt-secret",
    "ffr-user": "ffr-secret",
    "mt-user": "mt-secret",
    "all-user": "all-secret",
    "other-dt": "other-secret",
}
GRANTS: Final = {
    "dt-user": ["datatrust-v1"],
    "ffr-user": ["ffr"],
    "mt-user": ["mobile-trust"],
    "other-dt": ["datatrust-v1"],
}

# spec/datatrust-v1.md gives the request as a field table; these are its documented
# example values (pedido-123, 123.456.789-09), as the README's curl sends them.
DT_EXAMPLE: Final[dict[str, Any]] = {
    "IdentifierId": "pedido-123",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
# spec/ffr.md, the public example, verbatim.
FFR_EXAMPLE: Final[dict[str, Any]] = load_example("ffr", "score.request")
# spec/mobile-trust.md, the client code's body, verbatim.
MT_EXAMPLE: Final[dict[str, Any]] = load_example("mobile-trust", "transaction.request")
# What each answer carries that is not about the person.
VOLATILE: Final = frozenset({"transactionId", "createdAt", "TransactionID"})


@cache
def catalog() -> MappingCatalog:
    return load_catalog(MAPPINGS)


def product(name: str) -> Product:
    return catalog().products[name]


def operation(name: str) -> Operation:
    for item in catalog().products.values():
        for route in item.routes:
            if route.operation.name == name:
                return route.operation
    raise KeyError(name)


def documents(count: int, *, start: int = 100_000_000) -> list[str]:
    """``count`` valid CPFs, always the same ones."""
    return [with_check_digits(f"{start + n * 7_919:09d}") for n in range(count)]


def with_check_digits(base: str) -> str:
    """A nine-digit CPF base with its two check digits (the Receita Federal's rule)."""
    digits = base
    for weight in (10, 11):
        remainder = sum(int(d) * w for d, w in zip(digits, range(weight, 1, -1), strict=False)) % 11
        digits += str(0 if remainder < 2 else 11 - remainder)
    return digits


def stable(answer: Mapping[str, Any]) -> dict[str, Any]:
    """An answer without its transaction id and timestamp."""
    return {key: value for key, value in answer.items() if key not in VOLATILE}


def assert_valid_answer(operation_name: str, body: Any) -> None:
    """The answer satisfies its legacy response contract, by both validators."""
    compiled = operation(operation_name).legacy_response
    assert compiled.is_valid(body), body
    problems = [error.message for error in jsonschema.Draft7Validator(compiled.schema).iter_errors(body)]
    assert not problems, problems


def make_legacy_app(
    settings: LegacySimulatorSettings | None = None,
    *,
    clock: FakeClock | None = None,
    sleep: Sleep | None = None,
) -> Starlette:
    options: dict[str, Any] = {"clock": clock or FakeClock()}
    if sleep is not None:
        options["sleep"] = sleep
    return create_legacy_simulator(
        settings or LegacySimulatorSettings(disagreement_rate=0),
        catalog=catalog(),
        accounts=ACCOUNTS,
        grants=GRANTS,
        **options,
    )


@dataclass
class Legacy:
    """A client on one legacy simulator app, with helpers to log in per family."""

    app: Starlette
    client: httpx.AsyncClient
    tokens: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    @property
    def sim(self) -> LegacySimulator:
        simulator: LegacySimulator = self.app.state.legacy_simulator
        return simulator

    async def dt_headers(self, username: str = "dt-user", prefix: str = DT_PRD) -> dict[str, str]:
        key = (prefix, username)
        if key not in self.tokens:
            answer = await self.client.post(
                f"{prefix}/authentication", json={"Username": username, "Password": ACCOUNTS[username]}
            )
            assert answer.status_code == 200, answer.text
            self.tokens[key] = {"Authorization": f"Bearer {answer.json()['token']}"}
        return self.tokens[key]

    async def v1_headers(self, username: str, prefix: str = V1_PRD) -> dict[str, str]:
        key = (prefix, username)
        if key not in self.tokens:
            answer = await self.client.post(
                f"{prefix}/authenticate", data={"name": username, "password": ACCOUNTS[username]}
            )
            assert answer.status_code == 200, answer.text
            self.tokens[key] = {"Authorization": f"Bearer {answer.json()['Token']}"}
        return self.tokens[key]

    async def datatrust(self, body: Mapping[str, Any], prefix: str = DT_PRD) -> dict[str, Any]:
        headers = await self.dt_headers(prefix=prefix)
        answer = await self.client.post(f"{prefix}/datatrust", json=dict(body), headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def ffr(self, body: Mapping[str, Any], prefix: str = V1_PRD) -> dict[str, Any]:
        headers = await self.v1_headers("ffr-user", prefix)
        answer = await self.client.post(f"{prefix}/fintech/fraud/score", json=dict(body), headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def mobile_trust(self, body: Mapping[str, Any], prefix: str = V1_PRD) -> dict[str, Any]:
        headers = await self.v1_headers("mt-user", prefix)
        answer = await self.client.post(f"{prefix}/mobiletrust/transaction", json=dict(body), headers=headers)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


@asynccontextmanager
async def open_legacy(app: Starlette) -> AsyncIterator[Legacy]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://legacy.test") as client:
        yield Legacy(app, client)


# -- the oracle: the person's profile, named through the CSV files ---------------------------


def read_table(product_name: str, file_name: str, key: str) -> dict[str, dict[str, str]]:
    path: Path = MAPPINGS / product_name / "tables" / file_name
    with path.open(encoding="utf-8", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def _pair(pair: tuple[str, str]) -> str:
    return "+".join(sorted(pair))


def expected_datatrust(profile: PersonProfile, present: frozenset[Entity]) -> dict[str, Any]:
    insights = read_table("datatrust-v1", "insights.csv", "pdt_code")
    pairs = read_table("datatrust-v1", "rating-pairs.csv", "pdt_pair")
    values = read_table("datatrust-v1", "rating-values.csv", "pdt_value")
    return {
        "score": round(min(100.0, max(0.0, profile.score_for(present))), 2),
        "ratings": [
            {"relatedTo": pairs[_pair(r.pair)]["legacy"], "value": values[str(r.level)]["legacy"]}
            for r in profile.ratings_for(present)
            if _pair(r.pair) in pairs
        ],
        "insights": [
            {
                "code": insights[e.code]["legacy_code"],
                "description": insights[e.code]["description"],
                "type": insights[e.code]["type"],
            }
            for e in profile.insights_for(present)
            if e.code in insights
        ],
    }


FFR_CAPS: Final = {"Negative": 7, "Positive": 3, "AttackAlert": 3}


def expected_ffr(profile: PersonProfile, present: frozenset[Entity]) -> dict[str, Any]:
    codes = read_table("ffr", "codes.csv", "pdt_code")
    shown = [e.code for e in profile.insights_for(present) if e.code in codes]
    sections: dict[str, list[dict[str, str]]] = {}
    for section, cap in FFR_CAPS.items():
        ranked = sorted(
            (code for code in shown if codes[code]["section"] == section),
            key=lambda code: -int(codes[code]["weight"]),
        )
        sections[section] = [
            {"Code": codes[code]["ffr_code"], "Description": codes[code]["description"]}
            for code in ranked[:cap]
        ]
    return {
        "Score": round(min(100.0, max(0.0, profile.score_for(present)))),
        "Reports": {"Negative": sections["Negative"], "Positive": sections["Positive"]},
        "AttackAlerts": sections["AttackAlert"],
    }


def expected_mobile_trust(profile: PersonProfile, present: frozenset[Entity]) -> dict[str, Any]:
    insights = read_table("mobile-trust", "insights.csv", "pdt_code")
    relations = read_table("mobile-trust", "rating-relations.csv", "pdt_pair")
    values = read_table("mobile-trust", "rating-values.csv", "pdt_value")
    return {
        "Document": profile.document,
        "Ratings": [
            {"Relation": relations[_pair(r.pair)]["relation"], "Value": values[str(r.level)]["value"]}
            for r in profile.ratings_for(present)
            if _pair(r.pair) in relations
        ],
        "Insights": [
            {
                "Code": insights[e.code]["mt_code"],
                "Description": insights[e.code]["description"],
                "Type": insights[e.code]["type"],
            }
            for e in profile.insights_for(present)
            if e.code in insights
        ],
    }
