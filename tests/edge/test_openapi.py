"""The OpenAPI document of the legacy surfaces, generated from the mapping catalog."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import orjson
import pytest
import schemathesis
from schemathesis.core.result import Ok

from proxy.edge.openapi import SECURITY_SCHEME, build_openapi
from proxy.mapping.catalog import MappingCatalog, load_catalog

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def catalog() -> MappingCatalog:
    return load_catalog(MAPPINGS)


@pytest.fixture(scope="module")
def document(catalog: MappingCatalog) -> dict[str, Any]:
    return build_openapi(catalog)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for child in node.values() for ref in _refs(child)]
    if isinstance(node, list):
        return [ref for child in node for ref in _refs(child)]
    return []


def _lookup(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def test_every_catalog_route_is_documented_on_every_prefix(
    catalog: MappingCatalog, document: dict[str, Any]
) -> None:
    expected: set[tuple[str, str]] = set()
    for product in catalog.products.values():
        for prefix in product.spec.prefixes.values():
            expected.add((prefix + product.authentication.spec.path, "post"))
            expected.update((prefix + route.spec.path, route.spec.method.lower()) for route in product.routes)
    documented = {(path, method) for path, method, _ in _operations(document)}
    assert documented == expected


def test_document_is_structurally_valid_openapi_31(document: dict[str, Any]) -> None:
    # No OpenAPI validator ships with schemathesis 4; these are the rules a 3.1
    # validator would apply to what this generator emits.
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document["info"]["title"]
    assert document["info"]["version"]
    schemes = document["components"]["securitySchemes"]
    assert schemes[SECURITY_SCHEME] == {"type": "http", "scheme": "bearer", "description": "the legacy token"}
    names = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(names) == len(set(names))
    for name in document["components"]["schemas"]:
        assert re.fullmatch(r"[A-Za-z0-9.\-_]+", name), name
    for path, _, operation in _operations(document):
        templated = set(re.findall(r"{([^}]+)}", path))
        parameters = operation.get("parameters", [])
        assert {p["name"] for p in parameters if p["in"] == "path"} == templated
        assert all(p["required"] is True for p in parameters if p["in"] == "path")
        for requirement in operation["security"]:
            assert set(requirement) <= set(schemes)
        assert operation["responses"], path
        for status, response in operation["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", status)
            assert response["description"]
            assert set(response["content"]) == {"application/json"}
        for media_type in operation.get("requestBody", {}).get("content", {}):
            assert media_type in {"application/json", "application/x-www-form-urlencoded"}


def test_every_reference_resolves_and_every_schema_is_json_schema(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        assert isinstance(_lookup(document, ref), dict), ref
    # OpenAPI 3.1 schemas are JSON Schema 2020-12 (draft-07's keywords the contracts use are in it).
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert "definitions" not in schema, name


def test_routes_needing_a_token_say_so_and_authentication_does_not(
    catalog: MappingCatalog, document: dict[str, Any]
) -> None:
    auth_paths = {
        prefix + product.authentication.spec.path
        for product in catalog.products.values()
        for prefix in product.spec.prefixes.values()
    }
    for path, _, operation in _operations(document):
        if path in auth_paths:
            assert operation["security"] == []
            assert "401" not in operation["responses"] or "bad_credentials" in str(
                operation["responses"]["401"]
            )
        else:
            assert operation["security"] == [{SECURITY_SCHEME: []}]
            assert {"401", "403"} <= set(operation["responses"])


def test_form_is_documented_where_the_authentication_takes_it(
    catalog: MappingCatalog, document: dict[str, Any]
) -> None:
    for product in catalog.products.values():
        for prefix in product.spec.prefixes.values():
            content = document["paths"][prefix + product.authentication.spec.path]["post"]["requestBody"][
                "content"
            ]
            form = "application/x-www-form-urlencoded" in content
            assert form == ("form" in product.authentication.spec.encodings)


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # Resolve the document's own refs: the root of every pointer is the document.
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_every_rendered_error_body_matches_its_documented_schema(
    catalog: MappingCatalog, document: dict[str, Any]
) -> None:
    seen_kinds: set[str] = set()
    for product in catalog.products.values():
        table = product.errors
        for prefix in product.spec.prefixes.values():
            paths = [prefix + product.authentication.spec.path] + [
                prefix + r.spec.path for r in product.routes
            ]
            for path in paths:
                for operation in document["paths"][path].values():
                    for kind, (status, _) in table.entries.items():
                        response = operation["responses"].get(str(status))
                        if response is None or kind not in response["description"]:
                            continue
                        seen_kinds.add(kind)
                        _, body = table.render(kind, trace_id="abc", field_errors={"Document": ["bad"]})
                        schema = response["content"]["application/json"]["schema"]
                        _validator(document, schema).validate(orjson.loads(body))
    every_kind = {kind for product in catalog.products.values() for kind in product.errors.entries}
    # Only the 405 (a method no operation has) is never an operation's answer.
    assert every_kind - seen_kinds == {"method_not_allowed"}


def test_success_schemas_are_the_contract_files(catalog: MappingCatalog, document: dict[str, Any]) -> None:
    for product in catalog.products.values():
        prefix = product.spec.prefixes["prd"]
        for route in product.routes:
            operation = document["paths"][prefix + route.spec.path][route.spec.method.lower()]
            response = operation["responses"][str(route.operation.status)]
            component = _lookup(document, response["content"]["application/json"]["schema"]["$ref"])
            contract = route.operation.legacy_response.schema
            assert component["required"] == contract["required"]
            assert set(component["properties"]) == set(contract["properties"])


async def test_the_proxy_serves_the_document_and_not_fastapis(
    proxy: httpx.AsyncClient, catalog: MappingCatalog
) -> None:
    answer = await proxy.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == orjson.loads(orjson.dumps(build_openapi(catalog)))
    for path in ("/docs", "/redoc"):
        assert (await proxy.get(path)).status_code == 404


def test_schemathesis_loads_every_operation(document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(document)
    loaded = [result for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(loaded) == len(_operations(document))


def test_authentication_documents_the_failed_login_throttle(
    catalog: MappingCatalog, document: dict[str, Any]
) -> None:
    for product in catalog.products.values():
        status = str(product.errors.entries["rate_limited"][0])
        for prefix in product.spec.prefixes.values():
            responses = document["paths"][prefix + product.authentication.spec.path]["post"]["responses"]
            assert "rate_limited" in responses[status]["description"]
