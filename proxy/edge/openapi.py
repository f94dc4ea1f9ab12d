"""An OpenAPI 3.1 document of the legacy surfaces, generated from the mapping catalog.

Nothing here is hand-written: paths come from each ``product.yaml`` (every route on
every prefix, plus the authentication endpoint), bodies from the legacy contract
schemas under ``contract/``, and error answers from the family's ``errors.yaml``
(a body template becomes a closed schema of its shape). An operator who corrects a
contract file corrects the document with it, and the fuzz tests
(``tests/edge/test_fuzz.py``, ``scripts/fuzz``) hold the proxy to it.

OpenAPI 3.1 because its schemas are JSON Schema: the contracts' ``type: [..,
"null"]``, ``if``/``then``/``else`` and ``oneOf`` pass through unchanged. Only local
``$ref`` need rewriting: each contract's ``definitions`` become components of their
own, since a ``#/...`` pointer in the document is read from the document's root.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from proxy.config import Environment
from proxy.mapping.catalog import MappingCatalog, Product
from proxy.mapping.error_table import ErrorTable
from proxy.mapping.schemas import CompiledSchema

__all__ = ["SECURITY_SCHEME", "build_openapi", "openapi_endpoint"]

SECURITY_SCHEME: Final = "legacyToken"
_JSON: Final = "application/json"
_FORM: Final = "application/x-www-form-urlencoded"
_ERRORS_PLACEHOLDER: Final = "{errors}"

# Which error kinds a kind of route can answer. A kind not named here (one added to
# errors.yaml later) is assumed possible everywhere: documenting too much costs a
# reader a line, documenting too little makes a real answer "undocumented".
_AUTH_ONLY: Final = frozenset({"bad_credentials"})
# ``rate_limited`` is everywhere: operations have the tenant's rate, and logins
# the failed-login throttle (proxy/logins).
_TOKEN_ONLY: Final = frozenset({"unauthorized", "forbidden"})
_UPSTREAM: Final = frozenset(
    {"upstream_timeout", "upstream_unavailable", "upstream_rejected", "upstream_malformed"}
)
_BODY_ONLY: Final = frozenset({"validation", "payload_too_large", "unsupported_media_type"})
_ID_ONLY: Final = frozenset({"not_found", "route_not_found"})
# Answered only where no route matched at all, never by a documented operation.
_UNROUTED: Final = frozenset({"method_not_allowed"})


def _kind_applies(kind: str, *, auth: bool, has_body: bool, has_id: bool) -> bool:
    if kind in _UNROUTED:
        return False
    if kind in _AUTH_ONLY:
        return auth
    if kind in _TOKEN_ONLY or kind in _UPSTREAM:
        return not auth
    if kind in _BODY_ONLY:
        return has_body
    if kind in _ID_ONLY:
        return has_id
    return True


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _template_schema(template: Any) -> dict[str, Any]:
    """The JSON Schema of what ``ErrorTable.render`` makes of a body template."""
    if template == _ERRORS_PLACEHOLDER:
        # field path -> messages, as ValidationFailed.field_errors renders it.
        return {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    if isinstance(template, dict):
        return {
            "type": "object",
            "required": list(template),
            "additionalProperties": False,
            "properties": {key: _template_schema(value) for key, value in template.items()},
        }
    if isinstance(template, list):
        return {"type": "array"}
    if isinstance(template, bool):
        return {"type": "boolean"}
    if isinstance(template, int):
        return {"type": "integer"}
    if isinstance(template, float):
        return {"type": "number"}
    if template is None:
        return {"type": "null"}
    # A fixed message or one with {trace_id} in it: its wording is the table's business.
    return {"type": "string"}


class _Builder:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {}
        self.contract_names: dict[str, str] = {}
        # (family, shape) -> component name, so identical bodies share one schema.
        self.error_names: dict[tuple[str, bytes], str] = {}

    def contract(self, schema: CompiledSchema) -> dict[str, str]:
        """A $ref to the component holding this contract file (added on first use)."""
        name = self.contract_names.get(schema.source)
        if name is None:
            name = _pascal(schema.source.removesuffix(".json"))
            self.contract_names[schema.source] = name
            body = dict(schema.schema)
            definitions = body.pop("definitions", {}) or {}
            body.pop("$schema", None)
            refs = {f"#/definitions/{key}": f"#/components/schemas/{name}.{key}" for key in definitions}
            self.components[name] = _rewrite_refs(body, refs)
            for key, definition in definitions.items():
                self.components[f"{name}.{key}"] = _rewrite_refs(definition, refs)
        return {"$ref": f"#/components/schemas/{name}"}

    def error(self, table: ErrorTable, kind: str) -> dict[str, str]:
        shape = _template_schema(table.entries[kind][1])
        key = (table.family, orjson.dumps(shape, option=orjson.OPT_SORT_KEYS))
        name = self.error_names.get(key)
        if name is None:
            # Named after the body's members ("Message", "Message_ModelState"), which is
            # what tells two shapes apart; a kind's name would mislead once shared.
            members = "_".join(shape.get("properties", {})) or kind
            name = f"{_pascal(table.family)}Error.{members}"
            while name in self.components:
                name += "_"
            self.error_names[key] = name
            self.components[name] = shape
        return {"$ref": f"#/components/schemas/{name}"}

    def responses(
        self,
        table: ErrorTable,
        success: tuple[int, CompiledSchema],
        *,
        auth: bool,
        has_body: bool,
        has_id: bool,
    ) -> dict[str, Any]:
        status, schema = success
        responses: dict[str, Any] = {
            str(status): {
                "description": "the legacy answer",
                "content": {_JSON: {"schema": self.contract(schema)}},
            }
        }
        by_status: dict[int, list[str]] = {}
        for kind, (code, _) in table.entries.items():
            if _kind_applies(kind, auth=auth, has_body=has_body, has_id=has_id):
                by_status.setdefault(code, []).append(kind)
        for code in sorted(by_status):
            kinds = by_status[code]
            refs: list[dict[str, str]] = []
            for kind in kinds:
                ref = self.error(table, kind)
                if ref not in refs:
                    refs.append(ref)
            responses[str(code)] = {
                "description": f"{table.family} error: {', '.join(kinds)}",
                "content": {_JSON: {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}},
            }
        return responses


def _rewrite_refs(node: Any, refs: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: refs.get(value, value)
            if key == "$ref" and isinstance(value, str)
            else _rewrite_refs(value, refs)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, refs) for item in node]
    return node


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{([^}]+)}", path)
    ]


def _request_body(builder: _Builder, schema: CompiledSchema, encodings: Iterable[str]) -> dict[str, Any]:
    media = {_JSON: "json", _FORM: "form"}
    ref = builder.contract(schema)
    return {
        "required": True,
        "content": {media_type: {"schema": ref} for media_type, name in media.items() if name in encodings},
    }


def _products_at(
    catalog: MappingCatalog, environment: Environment, prefix: str, auth_path: str
) -> list[Product]:
    return [
        other
        for other in catalog.products.values()
        if other.spec.prefixes.get(environment) == prefix and other.authentication.spec.path == auth_path
    ]


def _add_authentication(
    builder: _Builder,
    paths: dict[str, Any],
    catalog: MappingCatalog,
    product: Product,
    environment: Environment,
    prefix: str,
) -> None:
    auth = product.authentication
    full = prefix + auth.spec.path
    if full in paths:
        return  # shared with another product of the same prefix (FFR and Mobile Trust)
    sharing = _products_at(catalog, environment, prefix, auth.spec.path)
    paths[full] = {
        "post": {
            "operationId": f"{product.name}.authenticate.{environment}",
            "summary": f"legacy token for {', '.join(other.spec.title for other in sharing)} ({environment})",
            "tags": sorted(other.name for other in sharing),
            "security": [],
            "requestBody": _request_body(builder, auth.gate.schema, auth.spec.encodings),
            "responses": builder.responses(
                product.errors, (200, auth.response_schema), auth=True, has_body=True, has_id=False
            ),
        }
    }


def build_openapi(catalog: MappingCatalog) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every legacy route the catalog declares."""
    builder = _Builder()
    paths: dict[str, Any] = {}
    for product in catalog.products.values():
        for environment, prefix in product.spec.prefixes.items():
            _add_authentication(builder, paths, catalog, product, environment, prefix)
            for route in product.routes:
                operation = route.operation
                has_body = operation.gate is not None
                entry: dict[str, Any] = {
                    "operationId": f"{operation.name}.{environment}",
                    "summary": f"{product.spec.title}: {operation.spec.description.strip()}",
                    "tags": [product.name],
                    "security": [{SECURITY_SCHEME: []}],
                    "responses": builder.responses(
                        product.errors,
                        (operation.status, operation.legacy_response),
                        auth=False,
                        has_body=has_body,
                        has_id=route.spec.transaction_id is not None,
                    ),
                }
                parameters = _path_parameters(route.spec.path)
                if parameters:
                    entry["parameters"] = parameters
                if operation.gate is not None:
                    entry["requestBody"] = _request_body(builder, operation.gate.schema, ["json"])
                paths.setdefault(prefix + route.spec.path, {})[route.spec.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ClearSale legacy APIs answered by the PDT compatibility proxy",
            "version": "generated",
            "description": "Generated at startup from mappings/ (product.yaml, contract/, errors.yaml).",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(builder.components.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {"type": "http", "scheme": "bearer", "description": "the legacy token"}
            },
        },
    }


def openapi_endpoint(current: Callable[[], MappingCatalog]) -> Callable[[Request], Awaitable[Response]]:
    """GET /openapi.json of the catalog in force: built and encoded once per catalog
    (a live reload brings a new one), not per request."""
    built: list[tuple[MappingCatalog, bytes]] = []

    async def openapi(request: Request) -> Response:
        catalog = current()
        if not built or built[0][0] is not catalog:
            built[:] = [(catalog, orjson.dumps(build_openapi(catalog)))]
        return Response(built[0][1], media_type=_JSON)

    return openapi
