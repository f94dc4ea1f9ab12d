"""A dispatcher over mocked PDT and legacy hosts, with the shipped mappings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import respx

from proxy.config import PdtEnvironment, PdtSettings, TimeoutSettings, project_root
from proxy.credentials import PdtCredential
from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.stages.dispatch import Dispatcher, Exchange, LegacyRequest
from proxy.stages.pdt_path import PdtPath
from proxy.tenants import LegacyAccount, Tenant
from proxy.upstream.legacy import LegacyClient
from proxy.upstream.pdt import PdtClient

PDT = "https://pdt.test"
LEGACY = "https://legacy.test"
CATALOG: MappingCatalog = load_catalog(project_root() / "mappings")
STAMP = "2026-11-22T10:00:00Z"
TX = "6f1c2a7e-0d7b-4f1e-9a55-3c1c4b7e2a10"
VALID_BODY = orjson.dumps({"Document": "12345678909", "Email": "a@example.com"})
# Spacing and key order as a legacy backend might send them: the bytes must pass untouched.
LEGACY_ANSWER = (
    b'{"transactionId":"L-1", "identifierId":null,"createdAt":"2026-11-22T10:00:00.000Z",'
    b'"score":41.0,"ratings":[],"insights":[]}'
)


def tenant(*, legacy: bool = True) -> Tenant:
    return Tenant(
        "acme",
        "ACME",
        frozenset({"datatrust-v1"}),
        "modules",
        None,
        False,
        {"prd": PdtCredential("prd", "acme-pdt", "pdt-secret")},
        legacy_accounts={"prd": LegacyAccount("acme-legacy", "legacy-secret")} if legacy else {},
    )


def pdt_transaction() -> dict[str, Any]:
    return {
        "id": TX,
        "createdAt": STAMP,
        "referenceDate": STAMP,
        "documentType": "CPF",
        "document": "12345678909",
    }


def pdt_router() -> respx.Router:
    router = respx.Router(base_url=PDT, assert_all_called=False)
    router.post("/v1/authentication", name="auth").mock(
        return_value=httpx.Response(200, json={"token": "t", "expiresInSeconds": 7200})
    )
    router.post("/v1/transaction", name="create").mock(
        return_value=httpx.Response(201, json=pdt_transaction())
    )
    router.post(f"/v1/transaction/{TX}/scores", name="scores").mock(
        return_value=httpx.Response(201, json=[{"value": 40.0, "reason": "Initial", "createdAt": STAMP}])
    )
    router.post(f"/v1/transaction/{TX}/ratings", name="ratings").mock(
        return_value=httpx.Response(201, json=[])
    )
    router.post(f"/v1/transaction/{TX}/insights", name="insights").mock(
        return_value=httpx.Response(201, json=[])
    )
    router.get(f"/v1/transaction/{TX}/all", name="all").mock(
        return_value=httpx.Response(
            200,
            json={
                "transaction": pdt_transaction(),
                "scores": [{"value": 40.0, "reason": "Initial", "createdAt": STAMP}],
            },
        )
    )
    return router


def legacy_router() -> respx.Router:
    router = respx.Router(base_url=LEGACY, assert_all_called=False)
    router.post("/products/v1/authentication", name="auth").mock(
        return_value=httpx.Response(200, json={"token": "lt", "expiresInSeconds": 3600})
    )
    router.post("/products/v1/datatrust", name="create").mock(
        return_value=httpx.Response(200, headers={"content-type": "application/json"}, content=LEGACY_ANSWER)
    )
    router.get(url__regex=r"/products/v1/datatrust/[^/]+$", name="get").mock(
        return_value=httpx.Response(200, headers={"content-type": "application/json"}, content=LEGACY_ANSWER)
    )
    return router


@dataclass
class Rig:
    pdt: respx.Router = field(default_factory=pdt_router)
    legacy: respx.Router = field(default_factory=legacy_router)
    deadline_s: float = 5.0

    def dispatcher(self) -> Dispatcher:
        pdt_client = PdtClient(
            httpx.MockTransport(self.pdt.async_handler),
            PdtSettings(
                environments={"prd": PdtEnvironment(base_url=PDT)}, timeouts=TimeoutSettings(read_s=2.0)
            ),
        )
        legacy_client = LegacyClient(
            httpx.MockTransport(self.legacy.async_handler), {"prd": LEGACY}, TimeoutSettings(read_s=2.0)
        )
        return Dispatcher(
            PdtPath(pdt_client),
            legacy_client,
            deadline_s=self.deadline_s,
            max_json_depth=16,
            canary_key=b"k" * 32,
        )


def exchange(
    operation: str = "datatrust.transaction.create",
    *,
    body: bytes = VALID_BODY,
    transaction_id: str | None = None,
    who: Callable[[], Tenant] = tenant,
) -> Exchange:
    product = CATALOG.products["datatrust-v1"]
    route = next(route for route in product.routes if route.operation.name == operation)
    path = "/products/v1/datatrust" + (f"/{transaction_id}" if transaction_id else "")
    method = route.spec.method
    request = LegacyRequest(
        method=method, path=path, body=body if method == "POST" else b"", content_type="application/json"
    )
    return Exchange(
        product=product,
        operation=route.operation,
        tenant=who(),
        environment="prd",
        request=request,
        transaction_id=transaction_id,
        request_id="req-1",
    )
