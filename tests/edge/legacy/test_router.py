"""The legacy route table: ASP.NET-like matching, 404 against 405, one table per set."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from proxy.edge.legacy.router import (
    AuthTarget,
    Matched,
    OperationTarget,
    RouteTable,
    RouteTables,
    compile_template,
)
from proxy.live import ConfigSet
from proxy.mapping.binding_profile import RoutingRules
from proxy.mapping.catalog import load_catalog
from tests.conftest import make_settings

CATALOG = load_catalog(make_settings(Path("/nonexistent")).mappings_dir)
TABLE = RouteTable(CATALOG)
ASPNET = RoutingRules(ignore_case=True, trailing_slash=True)
EXACT = RoutingRules(ignore_case=False, trailing_slash=False)


@pytest.mark.parametrize(
    ("template", "routing", "path", "params"),
    [
        ("/v1/thing", ASPNET, "/v1/thing", {}),
        ("/v1/thing", ASPNET, "/V1/Thing", {}),
        ("/v1/thing", ASPNET, "/v1/thing/", {}),
        ("/v1/thing", EXACT, "/V1/Thing", None),
        ("/v1/thing", EXACT, "/v1/thing/", None),
        ("/v1/thing/{id}", ASPNET, "/v1/THING/Ab-12/", {"id": "Ab-12"}),
        ("/v1/thing/{id}", EXACT, "/v1/thing/42", {"id": "42"}),
        ("/v1/thing/{id}", ASPNET, "/v1/thing/4/2", None),  # one segment only
        ("/v1/thing/{id}", ASPNET, "/v1/thing/", None),
        ("/v1/thing/{id}/token", ASPNET, "/v1/thing/7/token", {"id": "7"}),
        ("/v1.0/thing", EXACT, "/v1x0/thing", None),  # literal text is literal
    ],
)
def test_templates_match_as_aspnet_routing_did(
    template: str, routing: RoutingRules, path: str, params: dict[str, str] | None
) -> None:
    found = compile_template(template, routing).match(path)
    assert (found.groupdict() if found else None) == params


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/products/v1/authentication", ("auth", "datatrust-v1", "prd")),
        ("POST", "/API/Products/V1/Authentication/", ("auth", "datatrust-v1", "hml")),
        ("POST", "/products/v1/datatrust", ("/products/v1/datatrust", "datatrust-v1", "prd")),
        (
            "GET",
            "/products/v1/datatrust/abc",
            ("/products/v1/datatrust/{transactionId}", "datatrust-v1", "prd"),
        ),
        (
            "HEAD",
            "/products/v1/datatrust/abc",
            ("/products/v1/datatrust/{transactionId}", "datatrust-v1", "prd"),
        ),
        ("POST", "/v1/fintech/fraud/score", ("/v1/fintech/fraud/score", "ffr", "prd")),
        (
            "GET",
            "/api/v1/mobiletrust/transaction/T-1",
            ("/api/v1/mobiletrust/transaction/{TransactionID}", "mobile-trust", "hml"),
        ),
        ("GET", "/products/v1/authentication", 405),
        ("PUT", "/products/v1/datatrust", 405),
        ("DELETE", "/v1/fintech/fraud/score/", 405),
        ("POST", "/products/v1/nothing-here", 404),
        ("GET", "/products/v1/datatrust/a/b/c", 404),
        ("GET", "/v1/", 404),
    ],
)
def test_the_table_finds_the_target_or_says_404_or_405(
    method: str, path: str, expected: tuple[str, str, str] | int
) -> None:
    found = TABLE.match(method, path)
    if isinstance(expected, int):
        assert found == expected
        return
    assert isinstance(found, Matched)
    kind, product, environment = expected
    target = found.target
    assert (target.product.name, target.environment) == (product, environment)
    if kind == "auth":
        assert isinstance(target, AuthTarget)
    else:
        assert isinstance(target, OperationTarget)
        assert target.template == kind


def test_ffr_and_mobile_trust_share_one_login_naming_both() -> None:
    found = TABLE.match("POST", "/v1/authenticate")
    assert isinstance(found, Matched)
    assert isinstance(found.target, AuthTarget)
    assert found.target.products == {"ffr", "mobile-trust"}


@pytest.mark.parametrize(
    ("path", "declared"),
    [
        ("/Products/V1/DataTrust/abc/", "/products/v1/datatrust/abc"),
        ("/products/v1/datatrust/abc/TOKEN", "/products/v1/datatrust/abc/token"),
    ],
)
def test_the_backend_is_sent_the_declared_path(path: str, declared: str) -> None:
    found = TABLE.match("GET" if not path.lower().endswith("token") else "POST", path)
    assert isinstance(found, Matched)
    assert found.path() == declared


@pytest.mark.parametrize(
    ("path", "family"),
    [
        ("/products/v1/whatever", "datatrust-v1"),
        ("/API/PRODUCTS/V1", "datatrust-v1"),
        ("/api/v1/x", "v1"),
        ("/v1", "v1"),
        ("/admin/tenants", None),
        ("/v10/x", None),
    ],
)
def test_families_claim_their_prefixes(path: str, family: str | None) -> None:
    table = TABLE.families.for_path(path)
    if family is None:
        assert table is None
    else:
        expected = CATALOG.products["datatrust-v1" if family == "datatrust-v1" else "ffr"].errors
        assert table is expected


def test_one_table_per_set_object() -> None:
    first = ConfigSet(catalog=CATALOG, tenants=None, pricing=None, compare_rules=None)  # type: ignore[arg-type]
    tables = RouteTables()
    table = tables.for_set(first)
    assert tables.for_set(first) is table
    assert tables.for_set(replace(first)) is not table
