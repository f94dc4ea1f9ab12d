"""Legacy answers follow the person: deterministic, different per person, and, with no
disagreement, exactly what the PDT simulator's profile says, named through the CSV tables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import httpx
import pytest

from proxy.simulators.catalogue import CatalogueEntry, Entity
from proxy.simulators.legacy import (
    DEMO_ACCOUNTS,
    DEMO_GRANTS,
    LegacySimulatorSettings,
    create_legacy_simulator,
)
from proxy.simulators.profile import PersonProfile, derive_profile

from .legacy_support import (
    DT_EXAMPLE,
    DT_HML,
    FFR_EXAMPLE,
    MT_EXAMPLE,
    V1_HML,
    Legacy,
    assert_valid_answer,
    catalog,
    documents,
    expected_datatrust,
    expected_ffr,
    expected_mobile_trust,
    make_legacy_app,
    open_legacy,
    stable,
)
from .support import FakeClock

EVERYTHING: Final[frozenset[Entity]] = frozenset({"Document", "Email", "Phone", "ZipCode", "Device"})
Expectation = Callable[[PersonProfile, frozenset[Entity]], dict[str, Any]]


@pytest.fixture
async def legacy(clock: FakeClock) -> AsyncIterator[Legacy]:
    async with open_legacy(make_legacy_app(clock=clock)) as opened:
        yield opened


def dt_body(document: str, **changes: Any) -> dict[str, Any]:
    return {**DT_EXAMPLE, "Document": document, "SessionId": "s-1", **changes}


def ffr_body(document: str, **changes: Any) -> dict[str, Any]:
    return {**FFR_EXAMPLE, "Cpf": document, **changes}


def mt_body(document: str, **changes: Any) -> dict[str, Any]:
    return {**MT_EXAMPLE, "Document": document, **changes}


# (name, product call, body for a document, entities PDT sees, expectation)
CASES: Final[list[tuple[str, str, Callable[[str], dict[str, Any]], frozenset[Entity], Expectation]]] = [
    ("dt-full", "datatrust", dt_body, EVERYTHING, expected_datatrust),
    (
        "dt-document-only",
        "datatrust",
        lambda d: {"Document": d},
        frozenset({"Document"}),
        expected_datatrust,
    ),
    (
        "dt-email-zip",
        "datatrust",
        lambda d: {"Document": d, "email": "a@example.com", "zipcode": "01001-000", "Phone": None},
        frozenset({"Document", "Email", "ZipCode"}),
        expected_datatrust,
    ),
    ("ffr-example", "ffr", ffr_body, EVERYTHING, expected_ffr),
    (
        "ffr-residential-pick",
        "ffr",
        lambda d: ffr_body(
            d,
            SessionID=None,
            Email=None,
            Addresses=[{"TypeID": 2, "ZipCode": "01001000"}, {"TypeID": 1, "ZipCode": None}],
            Phones=[{"TypeID": 3, "DDD": "21", "Number": "988887777"}],
        ),
        frozenset({"Document", "Phone"}),
        expected_ffr,
    ),
    ("ffr-cpf-only", "ffr", lambda d: {"Cpf": d}, frozenset({"Document"}), expected_ffr),
    (
        "mt-example",
        "mobile_trust",
        mt_body,
        frozenset({"Document", "Email", "Phone", "ZipCode"}),
        expected_mobile_trust,
    ),
    (
        "mt-minimal",
        "mobile_trust",
        lambda d: {"Document": d, "AreaCode": "11", "Phone": "988056887"},
        frozenset({"Document", "Phone"}),
        expected_mobile_trust,
    ),
]


async def ask(legacy: Legacy, call: str, body: dict[str, Any]) -> dict[str, Any]:
    method = getattr(legacy, call)
    answer: dict[str, Any] = await method(body)
    return answer


def about_the_person(answer: dict[str, Any]) -> dict[str, Any]:
    """What the oracle predicts: the answer without ids, timestamps, echoes and SMS status."""
    return {k: v for k, v in stable(answer).items() if k not in {"identifierId", "OrderID", "Sms"}}


@pytest.mark.parametrize(
    ("name", "call", "body", "present", "expected"), CASES, ids=[case[0] for case in CASES]
)
async def test_no_disagreement_means_the_profile_through_the_tables(
    legacy: Legacy,
    catalogue: tuple[CatalogueEntry, ...],
    name: str,
    call: str,
    body: Callable[[str], dict[str, Any]],
    present: frozenset[Entity],
    expected: Expectation,
) -> None:
    operation = {"datatrust": "datatrust.transaction.create", "ffr": "ffr.score"}.get(
        call, "mobiletrust.transaction.create"
    )
    for document in documents(40):
        answer = await ask(legacy, call, body(document))
        assert_valid_answer(operation, answer)
        assert about_the_person(answer) == expected(derive_profile(document, catalogue), present), document


@pytest.mark.parametrize(
    ("name", "call", "body"), [(c[0], c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
async def test_same_person_same_answer(
    legacy: Legacy, name: str, call: str, body: Callable[[str], dict[str, Any]]
) -> None:
    document = documents(1, start=555_000_000)[0]
    first, second = await ask(legacy, call, body(document)), await ask(legacy, call, body(document))
    assert first != second  # fresh transaction ids...
    assert stable(first) == stable(second)  # ...about the same person


async def test_same_person_same_answer_across_environments_and_instances(clock: FakeClock) -> None:
    async with (
        open_legacy(make_legacy_app(clock=clock)) as one,
        open_legacy(make_legacy_app(clock=clock)) as two,
    ):
        assert stable(await one.datatrust(DT_EXAMPLE)) == stable(await two.datatrust(DT_EXAMPLE, DT_HML))
        assert stable(await one.ffr(FFR_EXAMPLE)) == stable(await two.ffr(FFR_EXAMPLE, V1_HML))
        assert stable(await one.mobile_trust(MT_EXAMPLE)) == stable(
            await two.mobile_trust(MT_EXAMPLE, V1_HML)
        )


@pytest.mark.parametrize(
    ("name", "call", "body"), [(c[0], c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES]
)
async def test_different_people_get_different_answers(
    legacy: Legacy, name: str, call: str, body: Callable[[str], dict[str, Any]]
) -> None:
    people = documents(30, start=700_000_000)
    answers = [about_the_person(await ask(legacy, call, body(document))) for document in people]
    distinct = {repr(answer) for answer in answers}
    assert len(distinct) >= 10, name


async def test_risky_people_score_higher_in_both_scored_products(
    legacy: Legacy, catalogue: tuple[CatalogueEntry, ...]
) -> None:
    people = sorted(documents(60), key=lambda d: derive_profile(d, catalogue).risk_score)
    low, high = people[:10], people[-10:]
    for product_call, key, body in (("datatrust", "score", dt_body), ("ffr", "Score", ffr_body)):
        low_scores = [(await ask(legacy, product_call, body(d)))[key] for d in low]
        high_scores = [(await ask(legacy, product_call, body(d)))[key] for d in high]
        assert max(low_scores) < min(high_scores), product_call


# -- against the proxy itself: the PDT simulator's answer translated by the mappings ---------------


@pytest.fixture
async def demo_legacy(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_legacy_simulator(
        LegacySimulatorSettings(disagreement_rate=0),
        catalog=catalog(),
        accounts=DEMO_ACCOUNTS,
        grants=DEMO_GRANTS,
        clock=clock,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://legacy.test"
    ) as client:
        yield client


async def login(client: httpx.AsyncClient, product_name: str) -> dict[str, str]:
    if product_name == "datatrust-v1":
        answer = await client.post(
            "/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        return {"Authorization": f"Bearer {answer.json()['token']}"}
    user = {"ffr": "demo-ffr", "mobile-trust": "demo-mt"}[product_name]
    answer = await client.post("/v1/authenticate", data={"name": user, "password": f"{user}-secret"})
    return {"Authorization": f"Bearer {answer.json()['Token']}"}


PROXY_CASES: Final[list[tuple[str, str, dict[str, Any]]]] = [
    ("datatrust-v1", "/products/v1/datatrust", DT_EXAMPLE),
    ("datatrust-v1", "/products/v1/datatrust", {"Document": "529.982.247-25", "SessionId": "abc"}),
    ("ffr", "/v1/fintech/fraud/score", FFR_EXAMPLE),
    ("mobile-trust", "/v1/mobiletrust/transaction", MT_EXAMPLE),
    ("mobile-trust", "/v1/mobiletrust/transaction", {**MT_EXAMPLE, "BlockSmsSending": False}),
]


@pytest.mark.parametrize(("product_name", "path", "body"), PROXY_CASES)
async def test_agrees_with_the_proxy_on_the_pdt_simulator(
    proxy: httpx.AsyncClient,
    demo_legacy: httpx.AsyncClient,
    product_name: str,
    path: str,
    body: dict[str, Any],
) -> None:
    through_proxy = await proxy.post(path, json=body, headers=await login(proxy, product_name))
    from_legacy = await demo_legacy.post(path, json=body, headers=await login(demo_legacy, product_name))
    assert through_proxy.status_code == from_legacy.status_code == 200, through_proxy.text
    assert stable(through_proxy.json()) == stable(from_legacy.json())
