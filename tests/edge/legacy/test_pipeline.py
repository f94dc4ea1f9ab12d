"""The legacy pipeline's order: when several things are wrong, the earliest check answers.

As the ASP.NET backends did it: authentication (401), then the product grant (403),
then the tenant's rate (429), then the body (400); and a success whose usage record
cannot be made durable is the family's 503, never a 200.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import RateLimitSettings, ServerSettings
from tests.conftest import make_settings
from tests.ledger.support import BrokenStore

PATH = "/products/v1/datatrust"
GOOD = {
    "IdentifierId": "pedido-123",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
# The check digits are wrong: the family's 400 once the body is read.
BAD = {**GOOD, "Document": "123.456.789-00"}


@pytest.mark.parametrize(
    ("token", "over_rate", "body", "ledger_broken", "status"),
    [
        (None, True, BAD, False, 401),
        ("other-product", True, BAD, False, 403),
        ("valid", True, BAD, False, 429),
        ("valid", False, BAD, False, 400),
        ("valid", False, GOOD, True, 503),
        ("valid", False, BAD, True, 400),  # an error bills nothing: it stands
        ("valid", False, GOOD, False, 200),
    ],
    ids=["401-first", "403-before-429", "429-before-400", "400", "ledger-503", "error-unbilled", "200"],
)
async def test_the_earliest_failing_check_answers(
    tmp_path: Path, token: str | None, over_rate: bool, body: dict[str, Any], ledger_broken: bool, status: int
) -> None:
    # One request per tenant per ~forever, burst one: the second request is over the rate.
    server = ServerSettings(tenant_rate_limit=RateLimitSettings(requests_per_s=0.001, burst=1))
    app = create_app(
        make_settings(tmp_path, server=server), ledger_store=BrokenStore() if ledger_broken else None
    )
    async with app.lifespan():
        products = ["ffr"] if token == "other-product" else ["datatrust-v1"]
        minted, _ = app.legacy.tokens.issue(
            tenant_id="demo-dt", username="demo-dt", environment="prd", products=products
        )
        headers = {"Authorization": f"Bearer {minted}"} if token is not None else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            if over_rate:
                spent = await client.post(PATH, json=BAD, headers={"Authorization": f"Bearer {minted}"})
                assert spent.status_code in {400, 403}
            answer = await client.post(PATH, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["x-request-id"]
    if status == 429:
        assert int(answer.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/products/v1/nowhere", 404),
        ("PUT", "/products/v1/datatrust", 405),
        ("GET", "/v1/fintech/fraud/score", 405),
        ("GET", "/v1/nowhere", 404),
    ],
)
async def test_unrouted_legacy_paths_answer_in_their_family_shape(
    tmp_path: Path, method: str, path: str, status: int
) -> None:
    app = create_app(make_settings(tmp_path))
    catalog = app.runtime.catalog
    family = catalog.products["ffr" if path.startswith("/v1/") else "datatrust-v1"].errors
    kind = {404: "route_not_found", 405: "method_not_allowed"}[status]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.request(method, path, headers={"x-request-id": "req-42"})
    expected_status, expected_body = family.render(kind, trace_id="req-42")
    assert (answer.status_code, answer.content) == (status, expected_body)
    assert expected_status == status
