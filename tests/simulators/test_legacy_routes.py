"""The legacy simulator on the wire: every declared route, the spec examples, every error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import pytest
from starlette.routing import Route

from proxy.simulators.legacy import LegacySimulatorSettings
from proxy.simulators.otp import token_code
from proxy.simulators.profile import derive_profile

from .legacy_support import (
    ACCOUNTS,
    DT_EXAMPLE,
    DT_HML,
    DT_PRD,
    FFR_EXAMPLE,
    MT_EXAMPLE,
    V1_HML,
    V1_PRD,
    Legacy,
    assert_valid_answer,
    catalog,
    make_legacy_app,
    open_legacy,
    product,
)
from .support import FakeClock

DT_UNAUTHORIZED: Final = {"message": "Authorization has been denied for this request."}
V1_UNAUTHORIZED: Final = {"Message": "Authorization has been denied for this request."}
DT_NOT_FOUND: Final = {"message": "Transaction not found"}
V1_NOT_FOUND: Final = {"Message": "Transaction not found."}
MISSING_ID: Final = "00000000-0000-0000-0000-000000000000"


def declared_routes() -> list[tuple[str, str, str]]:
    """(method, full path template, product) of every route every product.yaml declares."""
    found: list[tuple[str, str, str]] = []
    for item in catalog().products.values():
        for prefix in item.spec.prefixes.values():
            found.extend((route.spec.method, prefix + route.spec.path, item.name) for route in item.routes)
    return found


def fill(template: str, transaction_id: str = MISSING_ID) -> str:
    return template.replace("{transactionId}", transaction_id).replace("{TransactionID}", transaction_id)


@pytest.fixture
async def legacy(clock: FakeClock) -> AsyncIterator[Legacy]:
    async with open_legacy(make_legacy_app(clock=clock)) as opened:
        yield opened


# -- routes and authentication -------------------------------------------------------------


def test_every_declared_route_on_both_prefixes_is_served() -> None:
    app = make_legacy_app()
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    expected = {(method, path) for method, path, _ in declared_routes()}
    assert len(expected) == 14
    assert expected <= served
    auth = {("POST", p) for p in (f"{DT_PRD}/authentication", f"{DT_HML}/authentication")}
    auth |= {("POST", p) for p in (f"{V1_PRD}/authenticate", f"{V1_HML}/authenticate")}
    assert auth <= served


@pytest.mark.parametrize(("method", "template", "product_name"), declared_routes())
async def test_every_route_refuses_a_missing_token_in_its_family_shape(
    legacy: Legacy, method: str, template: str, product_name: str
) -> None:
    answer = await legacy.client.request(method, fill(template), json={} if method == "POST" else None)
    assert answer.status_code == 401
    expected = DT_UNAUTHORIZED if product_name == "datatrust-v1" else V1_UNAUTHORIZED
    assert answer.json() == expected


@pytest.mark.parametrize("prefix", [DT_PRD, DT_HML])
async def test_datatrust_authentication_answers_token_and_lifetime(legacy: Legacy, prefix: str) -> None:
    answer = await legacy.client.post(
        f"{prefix}/authentication", json={"username": "dt-user", "PASSWORD": "dt-secret"}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"token", "expiresInSeconds"}
    assert body["expiresInSeconds"] == LegacySimulatorSettings().token_ttl_s
    assert product("datatrust-v1").authentication.response_schema.is_valid(body)


@pytest.mark.parametrize("prefix", [V1_PRD, V1_HML])
@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_v1_authentication_takes_json_or_form_and_answers_local_expiry(
    legacy: Legacy, clock: FakeClock, prefix: str, encoding: str
) -> None:
    credentials = {"name": "ffr-user", "password": "ffr-secret"}
    if encoding == "json":
        answer = await legacy.client.post(f"{prefix}/authenticate", json=credentials)
    else:
        answer = await legacy.client.post(f"{prefix}/authenticate", data=credentials)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"Token", "ExpirationDate"}
    expires = datetime.fromtimestamp(clock.now + 3600, ZoneInfo("America/Sao_Paulo"))
    assert body["ExpirationDate"] == expires.strftime("%Y-%m-%dT%H:%M:%S")
    assert product("ffr").authentication.response_schema.is_valid(body)


BAD_LOGINS: Final = [
    (f"{DT_PRD}/authentication", {"Username": "dt-user", "Password": "wrong"}, 400),
    (f"{DT_HML}/authentication", {"Username": "nobody", "Password": "dt-secret"}, 400),
    (f"{DT_PRD}/authentication", {"Username": "ffr-user", "Password": "ffr-secret"}, 400),
    (f"{V1_PRD}/authenticate", {"name": "ffr-user", "password": "wrong"}, 401),
    (f"{V1_HML}/authenticate", {"name": "nobody", "password": "x"}, 401),
    (f"{V1_PRD}/authenticate", {"name": "dt-user", "password": "dt-secret"}, 401),
]


@pytest.mark.parametrize(("path", "body", "status"), BAD_LOGINS)
async def test_bad_credentials_answer_each_family_shape(
    legacy: Legacy, path: str, body: dict[str, str], status: int
) -> None:
    answer = await legacy.client.post(path, json=body)
    assert answer.status_code == status
    if status == 400:
        assert answer.json() == {"message": "Username or Password is incorrect"}
    else:
        assert answer.json() == {"Message": "The user name or password is incorrect."}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"{DT_PRD}/authentication", {"Username": "dt-user"}, "Password"),
        (f"{V1_PRD}/authenticate", {"name": "ffr-user"}, "password"),
    ],
)
async def test_incomplete_login_is_a_validation_error(
    legacy: Legacy, path: str, body: dict[str, str], field: str
) -> None:
    answer = await legacy.client.post(path, json=body)
    assert answer.status_code == 400
    errors = answer.json().get("errors") or answer.json().get("ModelState")
    assert field in errors


# -- tokens ---------------------------------------------------------------------------------


async def test_forged_and_expired_tokens_are_refused(legacy: Legacy, clock: FakeClock) -> None:
    headers = await legacy.dt_headers()
    forged = {"Authorization": "Bearer " + "x" * 64}
    answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=forged)
    assert (answer.status_code, answer.json()) == (401, DT_UNAUTHORIZED)
    no_scheme = {"Authorization": headers["Authorization"].removeprefix("Bearer ")}
    answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=no_scheme)
    assert answer.status_code == 401
    clock.now += 3601
    answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=headers)
    assert (answer.status_code, answer.json()) == (401, DT_UNAUTHORIZED)


async def test_tokens_stay_in_their_family_and_environment(legacy: Legacy) -> None:
    dt = await legacy.dt_headers("all-user")
    v1 = await legacy.v1_headers("all-user")
    hml = await legacy.dt_headers("all-user", DT_HML)
    answer = await legacy.client.post(f"{V1_PRD}/fintech/fraud/score", json=FFR_EXAMPLE, headers=dt)
    assert (answer.status_code, answer.json()) == (401, V1_UNAUTHORIZED)
    answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=v1)
    assert (answer.status_code, answer.json()) == (401, DT_UNAUTHORIZED)
    answer = await legacy.client.post(f"{DT_PRD}/datatrust", json=DT_EXAMPLE, headers=hml)
    assert answer.status_code == 401
    answer = await legacy.client.post(f"{DT_HML}/datatrust", json=DT_EXAMPLE, headers=hml)
    assert answer.status_code == 200


async def test_the_shared_v1_login_reaches_only_granted_products(legacy: Legacy) -> None:
    mt = await legacy.v1_headers("mt-user")
    answer = await legacy.client.post(f"{V1_PRD}/fintech/fraud/score", json=FFR_EXAMPLE, headers=mt)
    assert (answer.status_code, answer.json()) == (403, V1_UNAUTHORIZED)
    everything = await legacy.v1_headers("all-user")
    for path, body in (("/fintech/fraud/score", FFR_EXAMPLE), ("/mobiletrust/transaction", MT_EXAMPLE)):
        answer = await legacy.client.post(V1_PRD + path, json=body, headers=everything)
        assert answer.status_code == 200, path


async def test_accounts_can_be_added_after_start(legacy: Legacy) -> None:
    await legacy.dt_headers()  # the session spaces exist before the account does
    legacy.sim.add_account("late", "late-secret", ["datatrust-v1"])
    answer = await legacy.client.post(
        f"{DT_PRD}/authentication", json={"Username": "late", "Password": "late-secret"}
    )
    assert answer.status_code == 200
    answer = await legacy.client.post(
        f"{V1_PRD}/authenticate", json={"name": "late", "password": "late-secret"}
    )
    assert answer.status_code == 401


# -- the spec examples ------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [DT_PRD, DT_HML])
async def test_datatrust_example_answers_the_contract(legacy: Legacy, prefix: str) -> None:
    body = await legacy.datatrust(DT_EXAMPLE, prefix)
    assert_valid_answer("datatrust.transaction.create", body)
    assert list(body) == ["transactionId", "identifierId", "createdAt", "score", "ratings", "insights"]
    assert body["identifierId"] == "pedido-123"
    assert body["createdAt"].endswith("Z")
    headers = await legacy.dt_headers(prefix=prefix)
    again = await legacy.client.get(f"{prefix}/datatrust/{body['transactionId']}", headers=headers)
    assert again.status_code == 200
    assert again.json() == body
    assert_valid_answer("datatrust.transaction.get", again.json())


@pytest.mark.parametrize("prefix", [V1_PRD, V1_HML])
async def test_ffr_documented_example_answers_the_contract(legacy: Legacy, prefix: str) -> None:
    body = await legacy.ffr(FFR_EXAMPLE, prefix)
    assert_valid_answer("ffr.score", body)
    assert list(body) == ["OrderID", "TransactionID", "Score", "Reports", "AttackAlerts"]
    assert body["OrderID"] == "FINTECH_20171205"
    assert isinstance(body["Score"], int)


@pytest.mark.parametrize("prefix", [V1_PRD, V1_HML])
async def test_mobile_trust_client_example_answers_the_contract(legacy: Legacy, prefix: str) -> None:
    body = await legacy.mobile_trust(MT_EXAMPLE, prefix)
    assert_valid_answer("mobiletrust.transaction.create", body)
    assert list(body) == ["TransactionID", "Document", "Ratings", "Insights", "Sms"]
    assert body["Document"] == "19678335832"
    assert body["Sms"] == {"Status": "Blocked"}
    headers = await legacy.v1_headers("mt-user", prefix)
    again = await legacy.client.get(
        f"{prefix}/mobiletrust/transaction/{body['TransactionID']}", headers=headers
    )
    assert again.status_code == 200
    assert again.json() == body
    assert_valid_answer("mobiletrust.transaction.get", again.json())


async def test_member_names_bind_case_insensitively(legacy: Legacy) -> None:
    shouted = {key.upper(): value for key, value in DT_EXAMPLE.items()}
    lower = {key.lower(): value for key, value in DT_EXAMPLE.items()}
    first, second = await legacy.datatrust(shouted), await legacy.datatrust(lower)
    reference = await legacy.datatrust(DT_EXAMPLE)
    assert first["score"] == second["score"] == reference["score"]
    assert first["insights"] == reference["insights"]


# -- invalid bodies ----------------------------------------------------------------------------

INVALID_BODIES: Final[list[tuple[str, str, Any, str]]] = [
    ("datatrust-v1", "/datatrust", {**DT_EXAMPLE, "Document": "123.456.789-00"}, "Document"),
    ("datatrust-v1", "/datatrust", {"Email": "a@example.com"}, "Document"),
    ("datatrust-v1", "/datatrust", {**DT_EXAMPLE, "ZipCode": "123"}, "ZipCode"),
    ("ffr", "/fintech/fraud/score", {**FFR_EXAMPLE, "Cpf": "01234567891"}, "Cpf"),
    ("ffr", "/fintech/fraud/score", {**FFR_EXAMPLE, "ValidatedTokenSMS": 7}, "ValidatedTokenSMS"),
    ("mobile-trust", "/mobiletrust/transaction", {**MT_EXAMPLE, "Document": "19678335833"}, "Document"),
    ("mobile-trust", "/mobiletrust/transaction", {"Document": "19678335832"}, "AreaCode"),
]
USERS: Final = {"datatrust-v1": "dt-user", "ffr": "ffr-user", "mobile-trust": "mt-user"}


async def headers_for(legacy: Legacy, product_name: str) -> dict[str, str]:
    if product_name == "datatrust-v1":
        return await legacy.dt_headers()
    return await legacy.v1_headers(USERS[product_name])


def prefix_of(product_name: str) -> str:
    return DT_PRD if product_name == "datatrust-v1" else V1_PRD


@pytest.mark.parametrize(("product_name", "path", "body", "field"), INVALID_BODIES)
async def test_invalid_bodies_answer_the_family_validation_shape(
    legacy: Legacy, product_name: str, path: str, body: Any, field: str
) -> None:
    headers = await headers_for(legacy, product_name)
    answer = await legacy.client.post(prefix_of(product_name) + path, json=body, headers=headers)
    assert answer.status_code == 400
    payload = answer.json()
    if product_name == "datatrust-v1":
        assert payload["title"] == "One or more validation errors occurred."
        assert payload["status"] == 400
        assert field in payload["errors"]
        assert payload["traceId"]
    else:
        assert payload["Message"] == "The request is invalid."
        assert field in payload["ModelState"]


@pytest.mark.parametrize("product_name", ["datatrust-v1", "ffr", "mobile-trust"])
@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"<xml/>", "application/xml", 415),
        (b'{"a": "' + b"x" * 70_000 + b'"}', "application/json", 413),
    ],
)
async def test_undecodable_bodies_are_refused_in_family_shape(
    legacy: Legacy, product_name: str, content: bytes, content_type: str, status: int
) -> None:
    path = {
        "datatrust-v1": "/datatrust",
        "ffr": "/fintech/fraud/score",
        "mobile-trust": "/mobiletrust/transaction",
    }
    headers = {**await headers_for(legacy, product_name), "Content-Type": content_type}
    answer = await legacy.client.post(
        prefix_of(product_name) + path[product_name], content=content, headers=headers
    )
    assert answer.status_code == status
    key = "message" if product_name == "datatrust-v1" else "Message"
    assert key in answer.json() or "errors" in answer.json() or "ModelState" in answer.json()


# -- unknown ids, unknown routes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("GET", "/datatrust/{transactionId}", None),
        ("POST", "/datatrust/{transactionId}/token", {"Channel": "Sms"}),
        ("POST", "/datatrust/{transactionId}/token/validate", {"Channel": "Sms", "Value": "123456"}),
    ],
)
async def test_unknown_datatrust_ids_are_404(legacy: Legacy, method: str, template: str, body: Any) -> None:
    answer = await legacy.client.request(
        method, DT_PRD + fill(template), json=body, headers=await legacy.dt_headers()
    )
    assert (answer.status_code, answer.json()) == (404, DT_NOT_FOUND)


async def test_another_accounts_or_products_ids_are_404(legacy: Legacy) -> None:
    created = await legacy.datatrust(DT_EXAMPLE)
    other = await legacy.dt_headers("other-dt")
    answer = await legacy.client.get(f"{DT_PRD}/datatrust/{created['transactionId']}", headers=other)
    assert (answer.status_code, answer.json()) == (404, DT_NOT_FOUND)
    mt = await legacy.v1_headers("mt-user")
    answer = await legacy.client.get(
        f"{V1_PRD}/mobiletrust/transaction/{created['transactionId']}", headers=mt
    )
    assert (answer.status_code, answer.json()) == (404, V1_NOT_FOUND)
    answer = await legacy.client.get(f"{V1_PRD}/mobiletrust/transaction/{MISSING_ID}", headers=mt)
    assert (answer.status_code, answer.json()) == (404, V1_NOT_FOUND)


async def test_prd_ids_are_unknown_on_hml(legacy: Legacy) -> None:
    created = await legacy.datatrust(DT_EXAMPLE)
    hml = await legacy.dt_headers(prefix=DT_HML)
    answer = await legacy.client.get(f"{DT_HML}/datatrust/{created['transactionId']}", headers=hml)
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", f"{DT_PRD}/nothing", 404, {"message": "No resource was found that matches the request URI."}),
        (
            "GET",
            f"{V1_HML}/nothing",
            404,
            {"Message": "No HTTP resource was found that matches the request URI."},
        ),
        (
            "GET",
            f"{DT_PRD}/datatrust",
            405,
            {"message": "The requested resource does not support this HTTP method."},
        ),
        (
            "GET",
            f"{V1_PRD}/fintech/fraud/score",
            405,
            {"Message": "The requested resource does not support this http method."},
        ),
    ],
)
async def test_unknown_routes_and_methods_answer_in_family_shape(
    legacy: Legacy, method: str, path: str, status: int, body: dict[str, str]
) -> None:
    answer = await legacy.client.request(method, path)
    assert (answer.status_code, answer.json()) == (status, body)


# -- Data Trust 2FA -----------------------------------------------------------------------------


async def test_sms_token_round_trip_lowers_the_score(legacy: Legacy) -> None:
    created = await legacy.datatrust(DT_EXAMPLE)
    tid, headers = created["transactionId"], await legacy.dt_headers()
    sent = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token", json={"channel": "SMS"}, headers=headers
    )
    assert sent.status_code == 201
    assert sent.json()["status"] == "Waiting"
    assert_valid_answer("datatrust.token.send", sent.json())
    wrong = "000000" if token_code(tid, "sms") != "000000" else "111111"
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token/validate", json={"Channel": "Sms", "Value": wrong}, headers=headers
    )
    assert answer.json()["status"] == "Invalid"
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token/validate",
        json={"Channel": "Sms", "Value": token_code(tid, "sms")},
        headers=headers,
    )
    assert answer.status_code == 200
    assert answer.json() == {"status": "Valid", "type": "Sms", "createdAt": sent.json()["createdAt"]}
    assert_valid_answer("datatrust.token.validate", answer.json())
    after = (await legacy.client.get(f"{DT_PRD}/datatrust/{tid}", headers=headers)).json()
    profile = derive_profile("12345678909", legacy.sim.catalogue)
    present = frozenset({"Document", "Email", "Phone", "ZipCode"})
    assert after["score"] == profile.phone_checked_score(present)  # type: ignore[arg-type]
    assert after["score"] < created["score"] or created["score"] == 0


async def test_email_token_expires(legacy: Legacy, clock: FakeClock) -> None:
    created = await legacy.datatrust(DT_EXAMPLE)
    tid, headers = created["transactionId"], await legacy.dt_headers()
    sent = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token", json={"Channel": "Email"}, headers=headers
    )
    assert sent.status_code == 201
    clock.now += 301
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token/validate",
        json={"Channel": "email", "Value": token_code(tid, "email")},
        headers=headers,
    )
    assert answer.json() == {"status": "Expired", "type": "Email", "createdAt": sent.json()["createdAt"]}


async def test_token_without_data_or_before_sending_is_a_validation_error(legacy: Legacy) -> None:
    created = await legacy.datatrust({"Document": "12345678909"})
    tid, headers = created["transactionId"], await legacy.dt_headers()
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token", json={"Channel": "Sms"}, headers=headers
    )
    assert answer.status_code == 400
    assert "Channel" in answer.json()["errors"]
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token/validate",
        json={"Channel": "Sms", "Value": "123456"},
        headers=headers,
    )
    assert answer.status_code == 400
    assert "Value" in answer.json()["errors"]
    answer = await legacy.client.post(
        f"{DT_PRD}/datatrust/{tid}/token", json={"Channel": "Fax"}, headers=headers
    )
    assert answer.status_code == 400


def test_accounts_fixture_covers_every_family() -> None:
    assert {"dt-user", "ffr-user", "mt-user"} <= set(ACCOUNTS)
