"""Exchanges, answers and corpus entries for the recorder and replay tests, on the shipped mappings."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from proxy.config import Environment, project_root
from proxy.credentials import PdtCredential
from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.stages.dispatch import Answer, Exchange, LegacyRequest, Side
from proxy.state.corpus import CorpusEntry, RecordedBody
from proxy.tenants import Tenant

MAPPINGS: Final = project_root() / "mappings"
CATALOG: Final[MappingCatalog] = load_catalog(MAPPINGS)
SAMPLE: Final = Path(__file__).parents[1] / "replay" / "corpus" / "sample.jsonl"
KEY: Final = b"k" * 32
MOMENT: Final = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
MT_BODY: Final[dict[str, Any]] = {
    "Document": "19678335832",
    "DocumentType": "CPF",
    "AreaCode": "11",
    "Phone": "988056887",
    "BlockSmsSending": True,
    "Email": "cliente@example.org",
    "AdditionalInformation": {"Transaction": "123456789", "CustomerName": "Nome do Cliente"},
}
MT_ANSWER: Final[dict[str, Any]] = {
    "TransactionID": "L-1",
    "Document": "19678335832",
    "Ratings": [{"Relation": "CPF_PHONE", "Value": "Strong"}],
    "Insights": [],
    "Sms": {"Status": "Blocked"},
}


def tenant(tenant_id: str = "acme") -> Tenant:
    return Tenant(
        tenant_id,
        "ACME",
        frozenset({"datatrust-v1", "ffr", "mobile-trust"}),
        "modules",
        None,
        False,
        {"prd": PdtCredential("prd", "acme-pdt", "pdt-secret")},
    )


def exchange(
    operation: str = "mobiletrust.transaction.create",
    *,
    product: str = "mobile-trust",
    path: str = "/v1/mobiletrust/transaction",
    body: Any = MT_BODY,
    method: str = "POST",
    environment: Environment = "prd",
    transaction_id: str | None = None,
) -> Exchange:
    found = CATALOG.products[product]
    route = next(route for route in found.routes if route.operation.name == operation)
    raw = orjson.dumps(body) if body is not None else b""
    request = LegacyRequest(
        method=method, path=path, body=raw, content_type="application/json" if body is not None else None
    )
    return Exchange(
        product=found,
        operation=route.operation,
        tenant=tenant(),
        environment=environment,
        request=request,
        transaction_id=transaction_id,
        request_id="req-1",
    )


def answer(body: Any = MT_ANSWER, *, side: Side = "legacy", status: int = 200) -> Answer:
    return Answer(
        status=status,
        body=orjson.dumps(body),
        content_type="application/json; charset=utf-8",
        side=side,
        stage="legacy",
    )


def entry(**overrides: Any) -> CorpusEntry:
    values: dict[str, Any] = {
        "time": MOMENT,
        "environment": "prd",
        "tenant": "acme",
        "product": "mobile-trust",
        "operation": "mobiletrust.transaction.create",
        "method": "POST",
        "path": "/v1/mobiletrust/transaction",
        "request_body": RecordedBody(data={"Document": "19678335832"}),
        "status": 200,
        "response_body": RecordedBody(data=MT_ANSWER),
        "request_content_type": "application/json",
        "response_content_type": "application/json",
    }
    values.update(overrides)
    return CorpusEntry(**values)
