"""proxy.recording.routing: a recorded path back to its route and transaction id."""

from __future__ import annotations

import pytest

from proxy.config import Environment
from proxy.recording.routing import resolve_route, with_transaction_id

from .support import CATALOG

ROUTES: list[tuple[str, str, Environment, str, str | None]] = [
    ("datatrust-v1", "datatrust.transaction.create", "prd", "/products/v1/datatrust", None),
    ("datatrust-v1", "datatrust.transaction.create", "hml", "/api/products/v1/datatrust", None),
    ("datatrust-v1", "datatrust.transaction.get", "prd", "/products/v1/datatrust/abc-1", "abc-1"),
    ("datatrust-v1", "datatrust.token.send", "prd", "/products/v1/datatrust/abc-1/token", "abc-1"),
    ("ffr", "ffr.score", "hml", "/api/v1/fintech/fraud/score", None),
    ("mobile-trust", "mobiletrust.transaction.get", "prd", "/v1/mobiletrust/transaction/T-9", "T-9"),
]


@pytest.mark.parametrize(("product", "operation", "environment", "path", "transaction_id"), ROUTES)
def test_recorded_paths_resolve(
    product: str, operation: str, environment: Environment, path: str, transaction_id: str | None
) -> None:
    resolved = resolve_route(CATALOG, product, operation, environment, path)
    assert resolved.route.operation.name == operation
    assert resolved.transaction_id == transaction_id


UNKNOWN: list[tuple[str, str, Environment, str, str]] = [
    ("nope", "ffr.score", "prd", "/v1/fintech/fraud/score", "no product"),
    ("ffr", "ffr.score", "prd", "/api/v1/fintech/fraud/score", "no route"),
    ("ffr", "ffr.unknown", "prd", "/v1/fintech/fraud/score", "no route"),
]


@pytest.mark.parametrize(("product", "operation", "environment", "path", "message"), UNKNOWN)
def test_what_the_mappings_lack_is_a_lookup_error(
    product: str, operation: str, environment: Environment, path: str, message: str
) -> None:
    with pytest.raises(LookupError, match=message):
        resolve_route(CATALOG, product, operation, environment, path)


def test_a_transaction_id_is_replaced_as_a_whole_segment() -> None:
    assert with_transaction_id("/v1/x/ab/ab-token", "ab", "NEW") == "/v1/x/NEW/ab-token"
