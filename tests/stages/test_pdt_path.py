"""PdtPath on the pack strategy: what PDT's pack answer may omit, and what it may not."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from proxy.config import PdtEnvironment, PdtSettings, TimeoutSettings
from proxy.deadline import Deadline
from proxy.errors import UpstreamMalformed
from proxy.stages.pdt_path import PdtPath
from proxy.upstream.pdt import PdtCall, PdtClient

from .support import CATALOG, PDT, STAMP, TX, pdt_router, pdt_transaction, tenant

CREATE = "datatrust.transaction.create"
LEGACY: dict[str, Any] = {
    "transactionId": TX,
    "identifierId": None,
    "createdAt": "2026-11-22T10:00:00.000Z",
    "score": 40.0,
    "ratings": [],
    "insights": [],
}


def _pack(transaction: dict[str, Any]) -> dict[str, Any]:
    return {
        "transaction": transaction,
        "score": {
            "moduleStatus": "completed",
            "results": [{"value": 40.0, "reason": "Initial", "createdAt": STAMP}],
        },
        "rating": {"moduleStatus": "completed", "results": []},
        "insight": {"moduleStatus": "completed", "results": []},
    }


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in pdt_transaction().items() if key != name}


async def _answer(pack: dict[str, Any]) -> dict[str, Any]:
    router = pdt_router()
    router.post("/v1/packs/datatrust", name="pack").mock(return_value=httpx.Response(200, json=pack))
    client = PdtClient(
        httpx.MockTransport(router.async_handler),
        PdtSettings(environments={"prd": PdtEnvironment(base_url=PDT)}, timeouts=TimeoutSettings(read_s=2.0)),
    )
    operation = next(
        route.operation for route in CATALOG.products["datatrust-v1"].routes if route.operation.name == CREATE
    )
    on_pack = dataclasses.replace(tenant(), strategy="pack", pack="datatrust")
    call = PdtCall(on_pack.credential("prd"), Deadline(5.0))
    legacy = operation.parse_request({"Document": "12345678909"})
    answer = await PdtPath(client).answer(operation, on_pack, call, legacy, None)
    assert answer.modules == ("pack:datatrust",)
    assert answer.transaction_id == TX
    return answer.body


@pytest.mark.parametrize(
    "transaction",
    [
        pytest.param(pdt_transaction(), id="complete"),
        # PDT's contract requires these; no Data Trust v1 rule reads them.
        pytest.param(_without("referenceDate"), id="no-referenceDate"),
        pytest.param(_without("document"), id="no-document"),
        pytest.param({**pdt_transaction(), "newField": {"x": 1}}, id="a-field-pdt-added"),
    ],
)
async def test_a_pack_answer_maps_whatever_it_carries_beyond_what_is_read(
    transaction: dict[str, Any],
) -> None:
    assert await _answer(_pack(transaction)) == LEGACY


@pytest.mark.parametrize(
    "transaction",
    [
        pytest.param(_without("createdAt"), id="no-createdAt"),
        pytest.param({**pdt_transaction(), "createdAt": 1700000000}, id="createdAt-a-number"),
        pytest.param({**pdt_transaction(), "identifierId": 12}, id="identifierId-a-number"),
    ],
)
async def test_a_pack_answer_without_a_field_that_is_read_is_malformed(transaction: dict[str, Any]) -> None:
    with pytest.raises(UpstreamMalformed):
        await _answer(_pack(transaction))
