"""Any body on any legacy route: an answer or the family's 400, never a server error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .legacy_support import (
    ACCOUNTS,
    DT_EXAMPLE,
    DT_PRD,
    FFR_EXAMPLE,
    MT_EXAMPLE,
    V1_PRD,
    assert_valid_answer,
    documents,
    make_legacy_app,
)

JSON: Final = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# (route, operation, documented example, members the contract requires)
ROUTES: Final = [
    (f"{DT_PRD}/datatrust", "datatrust.transaction.create", DT_EXAMPLE, ("Document",)),
    (f"{V1_PRD}/fintech/fraud/score", "ffr.score", FFR_EXAMPLE, ("Cpf",)),
    (
        f"{V1_PRD}/mobiletrust/transaction",
        "mobiletrust.transaction.create",
        MT_EXAMPLE,
        ("Document", "AreaCode", "Phone"),
    ),
]
PEOPLE: Final = documents(50, start=800_000_000)
FUZZ: Final = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Client:
    """A blocking client on the app: Hypothesis drives plain functions, so each call runs
    to completion on one event loop kept for the module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=make_legacy_app())
        self.client = httpx.AsyncClient(transport=transport, base_url="http://legacy.test")

    def post(self, path: str, **options: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.post(path, **options))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    opened = Client()
    yield opened
    opened.close()


def login(client: Client, path: str) -> dict[str, str]:
    if path.startswith(DT_PRD):
        credentials = {"Username": "all-user", "Password": ACCOUNTS["all-user"]}
        answer = client.post(f"{DT_PRD}/authentication", json=credentials)
        return {"Authorization": f"Bearer {answer.json()['token']}"}
    answer = client.post(
        f"{V1_PRD}/authenticate", json={"name": "all-user", "password": ACCOUNTS["all-user"]}
    )
    return {"Authorization": f"Bearer {answer.json()['Token']}"}


def damaged(example: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The example with one member replaced by anything, or removed."""
    return st.builds(
        lambda key, value, remove: (
            {k: v for k, v in example.items() if k != key} if remove else {**example, key: value}
        ),
        st.sampled_from(sorted(example)),
        JSON,
        st.booleans(),
    )


@pytest.mark.parametrize(("path", "operation", "example", "required"), ROUTES)
def test_any_body_is_answered_or_refused_in_shape(
    client: Client, path: str, operation: str, example: dict[str, Any], required: tuple[str, ...]
) -> None:
    headers = login(client, path)

    @FUZZ
    @given(st.one_of(JSON, damaged(example)))
    def check(body: Any) -> None:
        answer = client.post(
            path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
        )
        assert answer.status_code in (200, 400), answer.text
        payload = answer.json()
        if answer.status_code == 200:
            assert_valid_answer(operation, payload)
        else:
            assert "errors" in payload or "ModelState" in payload

    check()


@pytest.mark.parametrize(("path", "operation", "example", "required"), ROUTES)
def test_valid_variations_of_the_example_always_answer(
    client: Client, path: str, operation: str, example: dict[str, Any], required: tuple[str, ...]
) -> None:
    headers = login(client, path)
    optional = sorted(key for key in example if key not in required)

    @FUZZ
    @given(st.sampled_from(PEOPLE), st.sets(st.sampled_from(optional)))
    def check(document: str, dropped: set[str]) -> None:
        body = {k: v for k, v in example.items() if k not in dropped}
        body[required[0]] = document
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert_valid_answer(operation, answer.json())

    check()
