"""The PDT simulator app, driven over HTTP the way the proxy drives PDT."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import fastjsonschema
import httpx
import jsonschema
import pytest

from proxy.config import SimulatorSettings
from proxy.simulators.catalogue import CatalogueEntry
from proxy.simulators.middleware import JsonServerErrors
from proxy.simulators.otp import token_code
from proxy.simulators.pdt import create_pdt_simulator
from proxy.simulators.profile import derive_profile
from proxy.simulators.results import present_entities

from .support import (
    ACCOUNTS,
    BARE_PERSON,
    CATALOGUE,
    FULL_PERSON,
    SCHEMAS,
    FakeClock,
    Pdt,
    assert_conforms,
    make_app,
    open_pdt,
    schema,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SCHEMA_FILES = {
    "authentication.request.json",
    "authentication.response.json",
    "transaction.request.json",
    "transaction.json",
    "scores.response.json",
    "ratings.response.json",
    "insights.response.json",
    "all.response.json",
    "pack.response.json",
    "token.response.json",
    "token-validate.request.json",
    "token-validate.response.json",
    "problem.json",
    "message.json",
}
EVIDENCE = re.compile(r"\b(documented|client code|reconstructed|sample)\b", re.IGNORECASE)
# Every route that acts on an existing transaction: (method, path template, json body).
TRANSACTION_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/v1/transaction/{id}", None),
    ("POST", "/v1/transaction/{id}/complements", {"name": "X"}),
    ("GET", "/v1/transaction/{id}/all", None),
    ("POST", "/v1/transaction/{id}/scores", None),
    ("GET", "/v1/transaction/{id}/scores", None),
    ("POST", "/v1/transaction/{id}/ratings", None),
    ("POST", "/v1/transaction/{id}/insights", None),
    ("POST", "/v1/transaction/{id}/emails/tokens", None),
    ("POST", "/v1/transaction/{id}/sms/tokens", None),
    ("POST", "/v1/transaction/{id}/emails/tokens/validate", {"value": "000000"}),
    ("POST", "/v1/transaction/{id}/sms/tokens/validate", {"value": "000000"}),
    ("GET", "/v1/packs/datatrust/{id}", None),
    ("GET", "/_simulator/tokens/{id}/sms", None),
]
PROTECTED_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/v1/transaction", FULL_PERSON),
    ("POST", "/v1/packs/datatrust", FULL_PERSON),
    *TRANSACTION_ROUTES,
]


def route_id(route: tuple[str, str, Any]) -> str:
    return f"{route[0]} {route[1]}"


async def call(pdt: Pdt, route: tuple[str, str, Any], transaction_id: str, headers: dict[str, str]) -> Any:
    method, template, body = route
    return await pdt.client.request(method, template.format(id=transaction_id), json=body, headers=headers)


# -- schema files ------------------------------------------------------------------------


def test_exactly_the_contract_schemas_ship() -> None:
    assert {path.name for path in SCHEMAS.glob("*.json")} == SCHEMA_FILES


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_schema_compiles_with_both_validators_and_carries_evidence(name: str) -> None:
    document = schema(name)
    fastjsonschema.compile(document)
    jsonschema.Draft7Validator.check_schema(document)
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert EVIDENCE.search(document["description"])


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        ("transaction.json", ()),
        ("all.response.json", ("definitions", "transaction")),
        ("pack.response.json", ("definitions", "transaction")),
    ],
)
def test_transaction_fields_do_not_drift(name: str, pointer: tuple[str, ...]) -> None:
    node = schema(name)
    for key in pointer:
        node = node[key]
    server_fields = {"id", "createdAt", "referenceDate"}
    echoed = {key: value for key, value in node["properties"].items() if key not in server_fields}
    assert echoed == schema("transaction.request.json")["properties"]


# -- authentication ----------------------------------------------------------------------


async def test_login_gives_a_token_for_the_configured_lifetime(pdt: Pdt) -> None:
    answer = await pdt.client.post("/v1/authentication", json={"Username": "acme", "Password": "acme-secret"})
    assert answer.status_code == 200
    assert_conforms(answer.json(), "authentication.response.json")
    assert answer.json()["expiresInSeconds"] == SimulatorSettings().token_ttl_s


@pytest.mark.parametrize(
    "credentials",
    [
        {"Username": "acme", "Password": "wrong"},
        {"Username": "nobody", "Password": "acme-secret"},
        {"Username": "acme", "Password": "globex-secret"},
        {"Username": "acme", "Password": "ácme"},
    ],
)
async def test_wrong_credentials_get_401(pdt: Pdt, credentials: dict[str, str]) -> None:
    answer = await pdt.client.post("/v1/authentication", json=credentials)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Username or Password is incorrect"}


@pytest.mark.parametrize(
    ("content", "field"),
    [(b"{", "$"), (b'{"Username": "acme"}', "Password"), (b'{"username": "acme"}', "Password")],
)
async def test_malformed_login_gets_400(pdt: Pdt, content: bytes, field: str) -> None:
    answer = await pdt.client.post("/v1/authentication", content=content)
    assert answer.status_code == 400
    assert_conforms(answer.json(), "problem.json")
    assert field in answer.json()["errors"]


async def test_accounts_can_be_added_after_start(pdt: Pdt) -> None:
    pdt.sim.add_account("initech", "initech-secret")
    answer = await pdt.client.post(
        "/v1/authentication", json={"Username": "initech", "Password": "initech-secret"}
    )
    assert answer.status_code == 200
    assert pdt.sim.accounts["initech"] == "initech-secret"


@pytest.mark.parametrize("route", PROTECTED_ROUTES, ids=route_id)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-token", "Basic YWNtZTphY21lLXNlY3JldA=="]
)
async def test_calls_without_a_live_token_get_401(
    pdt: Pdt, route: tuple[str, str, Any], authorization: str | None
) -> None:
    transaction = await pdt.create()
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = await call(pdt, route, transaction["id"], headers)
    assert answer.status_code == 401
    assert_conforms(answer.json(), "message.json")


async def test_an_expired_token_gets_401(pdt: Pdt, clock: FakeClock) -> None:
    transaction = await pdt.create()
    clock.now += SimulatorSettings().token_ttl_s + 1
    answer = await pdt.client.get(f"/v1/transaction/{transaction['id']}", headers=pdt.headers)
    assert answer.status_code == 401
    fresh = await pdt.login("acme")
    assert (await pdt.client.get(f"/v1/transaction/{transaction['id']}", headers=fresh)).status_code == 200


# -- transaction -------------------------------------------------------------------------


@pytest.mark.parametrize("person", [FULL_PERSON, BARE_PERSON], ids=["full", "bare"])
async def test_create_echoes_the_transaction_with_server_fields(pdt: Pdt, person: dict[str, Any]) -> None:
    answer = await pdt.client.post("/v1/transaction", json=person, headers=pdt.headers)
    assert answer.status_code == 201
    body = answer.json()
    assert_conforms(body, "transaction.json")
    assert {key: value for key, value in body.items() if key in person} == person
    assert uuid.UUID(body["id"]).version == 4
    assert TIMESTAMP.match(body["createdAt"])
    assert TIMESTAMP.match(body["referenceDate"])
    again = await pdt.client.get(f"/v1/transaction/{body['id']}", headers=pdt.headers)
    assert again.status_code == 200
    assert again.json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # Only what PDT documents (types, digits-only documents, the birthdate format)
        # and the two members the simulator cannot work without; the lenient cases are
        # in test_pdt_binding.py.
        ({"document": None}, "document"),
        ({"documentType": None}, "documentType"),
        ({"document": "123.456.789-09"}, "document"),
        ({"birthdate": "01/04/1990"}, "birthdate"),
        ({"phone": {"areaCode": "onze", "number": 988887777}}, "phone.areaCode"),
        ({"phone": {"areaCode": 11, "number": {"n": 1}}}, "phone.number"),
        ({"name": 42}, "name"),
        ({"address": {"zipCode": 1001000}}, "address.zipCode"),
        ({"verifiedEmail": "yes"}, "verifiedEmail"),
    ],
)
async def test_a_body_breaking_the_contract_gets_problem_details(
    pdt: Pdt, change: dict[str, Any], field: str
) -> None:
    person = {key: value for key, value in {**FULL_PERSON, **change}.items() if value is not None}
    answer = await pdt.client.post("/v1/transaction", json=person, headers=pdt.headers)
    assert answer.status_code == 400
    body = answer.json()
    assert_conforms(body, "problem.json")
    assert list(body["errors"]) == [field]
    assert body["status"] == 400
    assert body["traceId"]
    # Error messages name rules, never the personal data that broke them.
    assert not [value for value in change.values() if isinstance(value, str) and value in answer.text]


@pytest.mark.parametrize("content", [b"", b"{", b"[1, 2", b"not json", b"\xff\xfe"])
async def test_malformed_json_gets_400(pdt: Pdt, content: bytes) -> None:
    answer = await pdt.client.post("/v1/transaction", content=content, headers=pdt.headers)
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"$": ["The JSON value could not be parsed."]}


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"42"])
async def test_a_body_that_is_not_an_object_gets_400(pdt: Pdt, content: bytes) -> None:
    answer = await pdt.client.post("/v1/transaction", content=content, headers=pdt.headers)
    assert answer.status_code == 400
    assert "$" in answer.json()["errors"]


@pytest.mark.parametrize("route", TRANSACTION_ROUTES, ids=route_id)
async def test_unknown_transaction_gets_404(pdt: Pdt, route: tuple[str, str, Any]) -> None:
    answer = await call(pdt, route, str(uuid.uuid4()), pdt.headers)
    assert answer.status_code == 404
    assert answer.json() == {"message": "Transaction not found"}


@pytest.mark.parametrize("route", TRANSACTION_ROUTES, ids=route_id)
async def test_another_accounts_transaction_is_invisible(pdt: Pdt, route: tuple[str, str, Any]) -> None:
    transaction = await pdt.create()
    other = await pdt.login("globex")
    answer = await call(pdt, route, transaction["id"], other)
    assert answer.status_code == 404
    assert answer.json() == {"message": "Transaction not found"}


async def test_complements_add_missing_fields(pdt: Pdt) -> None:
    transaction = await pdt.create(BARE_PERSON)
    path = f"/v1/transaction/{transaction['id']}"
    answer = await pdt.client.post(
        f"{path}/complements", json={"email": "late@example.com", "name": "Ana"}, headers=pdt.headers
    )
    assert answer.status_code == 200
    assert_conforms(answer.json(), "transaction.json")
    stored = (await pdt.client.get(path, headers=pdt.headers)).json()
    assert (stored["email"], stored["name"], stored["id"]) == ("late@example.com", "Ana", transaction["id"])


@pytest.mark.parametrize(
    ("complement", "field"),
    [
        ({"email": "other@example.com"}, "email"),
        ({"document": "11111111111"}, "document"),
        ({"phone": {"areaCode": 21, "number": 977776666}}, "phone"),
        ({"verifiedEmail": "yes"}, "verifiedEmail"),
        ({"birthdate": "1990"}, "birthdate"),
    ],
)
async def test_complements_refuse_present_or_invalid_fields(
    pdt: Pdt, complement: dict[str, Any], field: str
) -> None:
    transaction = await pdt.create()
    answer = await pdt.client.post(
        f"/v1/transaction/{transaction['id']}/complements", json=complement, headers=pdt.headers
    )
    assert answer.status_code == 400
    assert_conforms(answer.json(), "problem.json")
    assert list(answer.json()["errors"]) == [field]


# -- modules ------------------------------------------------------------------------------


async def test_scores_404_before_post_then_201(pdt: Pdt, catalogue: tuple[CatalogueEntry, ...]) -> None:
    transaction = await pdt.create()
    path = f"/v1/transaction/{transaction['id']}/scores"
    assert (await pdt.client.get(path, headers=pdt.headers)).status_code == 404
    posted = await pdt.client.post(path, headers=pdt.headers)
    assert posted.status_code == 201
    assert_conforms(posted.json(), "scores.response.json")
    [score] = posted.json()
    profile = derive_profile(FULL_PERSON["document"], catalogue)
    assert score["value"] == profile.score_for(present_entities(FULL_PERSON))
    assert score["reason"] == "Initial"
    fetched = await pdt.client.get(path, headers=pdt.headers)
    assert (fetched.status_code, fetched.json()) == (200, posted.json())


@pytest.mark.parametrize("person", [FULL_PERSON, BARE_PERSON], ids=["full", "bare"])
async def test_same_person_same_answers_across_transactions(pdt: Pdt, person: dict[str, Any]) -> None:
    answers = []
    for _ in range(2):
        transaction = await pdt.create(person)
        results = {}
        for module in ("scores", "ratings", "insights"):
            posted = await pdt.client.post(
                f"/v1/transaction/{transaction['id']}/{module}", headers=pdt.headers
            )
            results[module] = [
                {key: value for key, value in item.items() if key != "createdAt"} for item in posted.json()
            ]
        answers.append(results)
    assert answers[0] == answers[1]


async def test_different_people_get_different_scores(pdt: Pdt) -> None:
    values = set()
    for n in range(10):
        transaction = await pdt.create({**BARE_PERSON, "document": f"{n:011d}"})
        posted = await pdt.client.post(f"/v1/transaction/{transaction['id']}/scores", headers=pdt.headers)
        values.add(posted.json()[0]["value"])
    assert len(values) >= 9


@pytest.mark.parametrize(
    ("change", "pairs"),
    [
        ({}, []),
        ({"email": "a@b.c"}, [["Document", "Email"]]),
        ({"phone": {"areaCode": 11, "number": 9}}, [["Document", "Phone"]]),
        ({"address": {"zipCode": "01001000"}}, [["Document", "ZipCode"]]),
        ({"address": {"city": "Recife"}}, []),
        (
            {"email": "a@b.c", "phone": {"areaCode": 11, "number": 9}, "address": {"zipCode": "01001000"}},
            [
                ["Document", "Email"],
                ["Document", "Phone"],
                ["Document", "ZipCode"],
                ["Phone", "Email"],
                ["Phone", "ZipCode"],
                ["Email", "ZipCode"],
            ],
        ),
    ],
)
async def test_ratings_only_for_pairs_present(
    pdt: Pdt, change: dict[str, Any], pairs: list[list[str]]
) -> None:
    transaction = await pdt.create({**BARE_PERSON, **change})
    answer = await pdt.client.post(f"/v1/transaction/{transaction['id']}/ratings", headers=pdt.headers)
    assert answer.status_code == 201
    assert_conforms(answer.json(), "ratings.response.json")
    assert [rating["relatedTo"] for rating in answer.json()] == pairs


@pytest.mark.parametrize("person", [FULL_PERSON, BARE_PERSON], ids=["full", "bare"])
async def test_insights_come_from_the_profile_about_present_data(
    pdt: Pdt, catalogue: tuple[CatalogueEntry, ...], person: dict[str, Any]
) -> None:
    transaction = await pdt.create(person)
    answer = await pdt.client.post(f"/v1/transaction/{transaction['id']}/insights", headers=pdt.headers)
    assert answer.status_code == 201
    assert_conforms(answer.json(), "insights.response.json")
    expected = derive_profile(person["document"], catalogue).insights_for(present_entities(person))
    assert [insight["code"] for insight in answer.json()] == [entry.code for entry in expected]


async def test_all_holds_only_modules_requested(pdt: Pdt) -> None:
    transaction = await pdt.create()
    path = f"/v1/transaction/{transaction['id']}"
    seen = []
    for module in (None, "scores", "ratings", "insights"):
        if module:
            await pdt.client.post(f"{path}/{module}", headers=pdt.headers)
        answer = await pdt.client.get(f"{path}/all", headers=pdt.headers)
        assert answer.status_code == 200
        assert_conforms(answer.json(), "all.response.json")
        seen.append(sorted(answer.json()))
    assert seen == [
        ["transaction"],
        ["scores", "transaction"],
        ["ratings", "scores", "transaction"],
        ["insights", "ratings", "scores", "transaction"],
    ]


async def test_module_calls_answer_for_the_transaction_as_it_stands(pdt: Pdt) -> None:
    transaction = await pdt.create({**BARE_PERSON, "phone": {"areaCode": 11, "number": 988887777}})
    path = f"/v1/transaction/{transaction['id']}"
    before = (await pdt.client.post(f"{path}/ratings", headers=pdt.headers)).json()
    await pdt.client.post(f"{path}/scores", headers=pdt.headers)
    await pdt.client.post(f"{path}/sms/tokens", headers=pdt.headers)
    code = token_code(transaction["id"], "sms")
    await pdt.client.post(f"{path}/sms/tokens/validate", json={"value": code}, headers=pdt.headers)
    await pdt.client.post(f"{path}/complements", json={"email": "a@b.c"}, headers=pdt.headers)
    after = (await pdt.client.post(f"{path}/ratings", headers=pdt.headers)).json()
    scores = (await pdt.client.post(f"{path}/scores", headers=pdt.headers)).json()
    assert [r["relatedTo"] for r in before] == [["Document", "Phone"]]
    assert [r["relatedTo"] for r in after] == [
        ["Document", "Email"],
        ["Document", "Phone"],
        ["Phone", "Email"],
    ]
    assert [score["reason"] for score in scores] == ["PhoneChecked", "Initial"]


# -- one-time tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "kind"), [("sms", "Sms"), ("emails", "Email")])
async def test_token_flow(pdt: Pdt, channel: str, kind: str) -> None:
    transaction = await pdt.create()
    base = f"/v1/transaction/{transaction['id']}/{channel}/tokens"
    sent = await pdt.client.post(base, headers=pdt.headers)
    assert sent.status_code == 201
    assert_conforms(sent.json(), "token.response.json")
    assert sent.json()["status"] == "Waiting"
    code = token_code(transaction["id"], kind)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for value, status in [(wrong, "Invalid"), (code, "Valid"), (wrong, "Invalid"), (code, "Valid")]:
        answer = await pdt.client.post(f"{base}/validate", json={"value": value}, headers=pdt.headers)
        assert answer.status_code == 200
        assert_conforms(answer.json(), "token-validate.response.json")
        assert answer.json() == {"status": status, "type": kind, "createdAt": sent.json()["createdAt"]}


@pytest.mark.parametrize(("channel", "kind"), [("sms", "Sms"), ("email", "Email"), ("emails", "Email")])
async def test_simulator_route_reveals_the_code(pdt: Pdt, channel: str, kind: str) -> None:
    transaction = await pdt.create()
    answer = await pdt.client.get(f"/_simulator/tokens/{transaction['id']}/{channel}", headers=pdt.headers)
    assert answer.status_code == 200
    assert answer.json() == {"code": token_code(transaction["id"], kind)}
    assert pdt.sim.token_code(transaction["id"], kind) == answer.json()["code"]
    assert re.fullmatch(r"\d{6}", answer.json()["code"])


def test_token_codes_differ_by_channel_and_transaction() -> None:
    ids = [str(uuid.UUID(int=n)) for n in range(20)]
    codes = {token_code(transaction_id, channel) for transaction_id in ids for channel in ("sms", "email")}
    assert len(codes) >= 39
    with pytest.raises(ValueError, match="channel"):
        token_code(ids[0], "pigeon")


@pytest.mark.parametrize(("channel", "field"), [("sms", "phone"), ("emails", "email")])
async def test_token_needs_somewhere_to_go(pdt: Pdt, channel: str, field: str) -> None:
    transaction = await pdt.create(BARE_PERSON)
    answer = await pdt.client.post(
        f"/v1/transaction/{transaction['id']}/{channel}/tokens", headers=pdt.headers
    )
    assert answer.status_code == 400
    assert_conforms(answer.json(), "problem.json")
    assert list(answer.json()["errors"]) == [field]


@pytest.mark.parametrize(
    ("body", "field"), [({"value": "123456"}, "value"), ({}, "value"), ({"value": 123456}, "value")]
)
async def test_validation_without_a_sent_token_or_a_value_gets_400(
    pdt: Pdt, body: dict[str, Any], field: str
) -> None:
    transaction = await pdt.create()
    answer = await pdt.client.post(
        f"/v1/transaction/{transaction['id']}/sms/tokens/validate", json=body, headers=pdt.headers
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == [field]


async def test_unknown_token_channel_gets_404(pdt: Pdt) -> None:
    transaction = await pdt.create()
    answer = await pdt.client.post(f"/v1/transaction/{transaction['id']}/pigeon/tokens", headers=pdt.headers)
    assert answer.status_code == 404
    assert_conforms(answer.json(), "message.json")


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([], {}, id="no-token-no-key"),
        pytest.param(["send sms"], {"smsTokens": "Waiting"}, id="sent"),
        pytest.param(["send sms", "right sms"], {"smsTokens": "Valid"}, id="confirmed"),
        pytest.param(["send sms", "wrong sms"], {"smsTokens": "Invalid"}, id="denied"),
        pytest.param(["send sms", "late"], {"smsTokens": "Expired"}, id="nobody-answered-in-time"),
        pytest.param(["send sms", "right sms", "late"], {"smsTokens": "Valid"}, id="valid-stays-valid"),
        pytest.param(
            ["send sms", "send emails", "right emails"],
            {"smsTokens": "Waiting", "emailTokens": "Valid"},
            id="both-channels",
        ),
    ],
)
async def test_all_reports_each_channels_token_with_its_status_now(
    pdt: Pdt, clock: FakeClock, steps: list[str], expected: dict[str, str]
) -> None:
    transaction = await pdt.create()
    path = f"/v1/transaction/{transaction['id']}"
    for step in steps:
        verb, _, channel = step.partition(" ")
        if verb == "late":
            clock.now += pdt.sim.code_ttl_s + 1
        elif verb == "send":
            await pdt.client.post(f"{path}/{channel}/tokens", headers=pdt.headers)
        else:
            code = token_code(transaction["id"], channel)
            value = code if verb == "right" else f"{(int(code) + 1) % 1_000_000:06d}"
            await pdt.client.post(
                f"{path}/{channel}/tokens/validate", json={"value": value}, headers=pdt.headers
            )
    answer = (await pdt.client.get(f"{path}/all", headers=pdt.headers)).json()
    assert_conforms(answer, "all.response.json")
    tokens = {key: value for key, value in answer.items() if key.endswith("Tokens")}
    assert {key: value[-1]["status"] for key, value in tokens.items()} == expected
    for key, value in tokens.items():
        assert value[-1]["type"] == ("Sms" if key == "smsTokens" else "Email")


async def test_a_late_code_has_expired(pdt: Pdt, clock: FakeClock) -> None:
    transaction = await pdt.create()
    base = f"/v1/transaction/{transaction['id']}/sms/tokens"
    await pdt.client.post(base, headers=pdt.headers)
    clock.now += pdt.sim.code_ttl_s + 1
    answer = await pdt.client.post(
        f"{base}/validate", json={"value": token_code(transaction["id"], "sms")}, headers=pdt.headers
    )
    assert answer.json()["status"] == "Expired"


@pytest.mark.parametrize(("channel", "adds_score"), [("sms", True), ("emails", False)])
async def test_a_checked_phone_lowers_the_score(pdt: Pdt, channel: str, adds_score: bool) -> None:
    transaction = await pdt.create()
    path = f"/v1/transaction/{transaction['id']}"
    [initial] = (await pdt.client.post(f"{path}/scores", headers=pdt.headers)).json()
    await pdt.client.post(f"{path}/{channel}/tokens", headers=pdt.headers)
    code = token_code(transaction["id"], channel)
    for _ in range(2):
        await pdt.client.post(f"{path}/{channel}/tokens/validate", json={"value": code}, headers=pdt.headers)
    scores = (await pdt.client.get(f"{path}/scores", headers=pdt.headers)).json()
    assert_conforms(scores, "scores.response.json")
    if adds_score:
        assert [score["reason"] for score in scores] == ["Initial", "PhoneChecked"]
        assert scores[1]["value"] <= initial["value"]
    else:
        assert scores == [initial]


# -- packs ---------------------------------------------------------------------------------


async def test_pack_computes_every_module_at_once(pdt: Pdt) -> None:
    answer = await pdt.client.post("/v1/packs/datatrust", json=FULL_PERSON, headers=pdt.headers)
    assert answer.status_code == 201
    body = answer.json()
    assert_conforms(body, "pack.response.json")
    assert body["status"] == "completed"
    assert {key: body[key]["moduleStatus"] for key in ("score", "rating", "insight")} == dict.fromkeys(
        ("score", "rating", "insight"), "completed"
    )
    transaction_id = body["transaction"]["id"]
    again = await pdt.client.get(f"/v1/packs/datatrust/{transaction_id}", headers=pdt.headers)
    assert (again.status_code, again.json()) == (200, body)
    everything = (await pdt.client.get(f"/v1/transaction/{transaction_id}/all", headers=pdt.headers)).json()
    assert everything["scores"] == body["score"]["results"]
    assert everything["ratings"] == body["rating"]["results"]
    assert everything["insights"] == body["insight"]["results"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/v1/packs/nopack", FULL_PERSON), ("GET", "/v1/packs/nopack/{id}", None)],
)
async def test_unknown_pack_gets_404(pdt: Pdt, method: str, path: str, body: Any) -> None:
    transaction = await pdt.create()
    answer = await call(pdt, (method, path, body), transaction["id"], pdt.headers)
    assert answer.status_code == 404
    assert_conforms(answer.json(), "message.json")


async def test_a_pack_answers_only_for_its_own_transactions(clock: FakeClock) -> None:
    app = make_app(clock=clock, packs={"datatrust": frozenset({"score"}), "mobile": frozenset({"rating"})})
    async with open_pdt(app) as pdt:
        created = await pdt.client.post("/v1/packs/mobile", json=FULL_PERSON, headers=pdt.headers)
        assert sorted(created.json()) == ["createdAt", "rating", "status", "transaction"]
        transaction_id = created.json()["transaction"]["id"]
        assert (
            await pdt.client.get(f"/v1/packs/mobile/{transaction_id}", headers=pdt.headers)
        ).status_code == 200
        wrong = await pdt.client.get(f"/v1/packs/datatrust/{transaction_id}", headers=pdt.headers)
        assert wrong.status_code == 404
        plain = await pdt.create()
        assert (
            await pdt.client.get(f"/v1/packs/mobile/{plain['id']}", headers=pdt.headers)
        ).status_code == 404


async def test_pack_refuses_a_bad_body(pdt: Pdt) -> None:
    answer = await pdt.client.post(
        "/v1/packs/datatrust", json=BARE_PERSON | {"birthdate": "1990"}, headers=pdt.headers
    )
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["birthdate"]


# -- capacity, latency, faults, errors -------------------------------------------------------


async def test_the_store_forgets_the_oldest_transactions(clock: FakeClock) -> None:
    async with open_pdt(make_app(clock=clock, max_transactions=3)) as pdt:
        ids = [(await pdt.create())["id"] for _ in range(5)]
        statuses = [
            (await pdt.client.get(f"/v1/transaction/{tid}", headers=pdt.headers)).status_code for tid in ids
        ]
        assert statuses == [404, 404, 200, 200, 200]
        assert len(pdt.sim.store) == 3


async def until_answered(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """Setup calls may be faulted too; retry them so the test is about the calls it counts."""
    while (answer := await send()).status_code == 503:
        pass
    return answer


async def fault_pattern(seed: int, fault_rate: float, calls: int) -> list[int]:
    app = make_app(SimulatorSettings(fault_rate=fault_rate), seed=seed)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pdt.test") as client:
        credentials = {"Username": "acme", "Password": ACCOUNTS["acme"]}
        login = await until_answered(lambda: client.post("/v1/authentication", json=credentials))
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        created = await until_answered(
            lambda: client.post("/v1/transaction", json=FULL_PERSON, headers=headers)
        )
        path = f"/v1/transaction/{created.json()['id']}"
        statuses = []
        for _ in range(calls):
            answer = await client.get(path, headers=headers)
            if answer.status_code == 503:
                assert_conforms(answer.json(), "message.json")
            statuses.append(answer.status_code)
        return statuses


@pytest.mark.parametrize("fault_rate", [0.1, 0.5])
async def test_fault_rate_is_honoured_and_replayable(fault_rate: float) -> None:
    first = await fault_pattern(7, fault_rate, 400)
    assert set(first) <= {200, 503}
    assert abs(first.count(503) / len(first) - fault_rate) < 0.08
    assert await fault_pattern(7, fault_rate, 400) == first


async def test_only_pdt_routes_fault() -> None:
    transport = httpx.ASGITransport(app=make_app(SimulatorSettings(fault_rate=1.0)))
    async with httpx.AsyncClient(transport=transport, base_url="http://pdt.test") as client:
        assert (await client.get("/v1/transaction/x")).status_code == 503
        assert (await client.get("/_simulator/tokens/x/sms")).status_code == 401


async def test_latency_is_slept_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    settings = SimulatorSettings(latency_ms=20, latency_jitter_ms=10)
    async with open_pdt(make_app(settings, seed=1)) as pdt:
        slept.clear()
        for _ in range(20):
            await pdt.create()
    assert len(slept) == 20
    assert all(0.020 <= seconds <= 0.030 for seconds in slept)


def test_no_latency_and_no_faults_adds_no_middleware() -> None:
    app = make_app(SimulatorSettings())
    assert [cls for cls, _, _ in app.user_middleware] == [JsonServerErrors]


async def test_an_unexpected_error_is_a_json_500(pdt: Pdt, monkeypatch: pytest.MonkeyPatch) -> None:
    transaction = await pdt.create()

    def explode(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(pdt.sim.store, "get", explode)
    answer = await pdt.client.get(f"/v1/transaction/{transaction['id']}", headers=pdt.headers)
    assert answer.status_code == 500
    assert answer.json() == {"message": "An error has occurred."}
    assert "boom" not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/v2/nothing", 404), ("DELETE", "/v1/transaction", 405)]
)
async def test_routing_errors_are_json(pdt: Pdt, method: str, path: str, status: int) -> None:
    answer = await pdt.client.request(method, path, headers=pdt.headers)
    assert answer.status_code == status
    assert_conforms(answer.json(), "message.json")


def test_the_callers_accounts_mapping_is_copied() -> None:
    accounts = dict(ACCOUNTS)
    app = create_pdt_simulator(SimulatorSettings(), catalogue_path=CATALOGUE, accounts=accounts)
    accounts["mallory"] = "x"
    assert dict(app.state.simulator.accounts) == ACCOUNTS
