"""Load every product under ``mappings/``, validate it and compile it.

``load_catalog`` is what ``serve`` and ``lint`` both run: a broken file stops the
process with a ``MappingError`` naming the file, the rule and the reason. Paths
inside a mapping file are relative to that file and may not leave ``mappings/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from proxy.errors import MappingError
from proxy.mapping.binding import compile_binder
from proxy.mapping.binding_profile import STRICT, BindingProfile, build_profile
from proxy.mapping.compiler import compile_condition, compile_mapper, compile_value
from proxy.mapping.error_table import ErrorTable, parse_error_table
from proxy.mapping.operation import FollowUp, Operation, RequestGate
from proxy.mapping.paths import compile_getter, parse_path
from proxy.mapping.schemas import CompiledSchema, load_schema
from proxy.mapping.shorthand import operation_view
from proxy.mapping.spec import (
    AuthenticationSpec,
    BindingSpec,
    FieldRule,
    OperationSpec,
    ProductSpec,
    RouteSpec,
    UnroutedSpec,
)
from proxy.mapping.tables import CodeTable, TableDeclaration, load_table, parse_declarations
from proxy.pdt_vocabulary import VOCABULARY_FILE, PdtVocabulary, parse_vocabulary
from proxy.yaml_files import load_yaml

__all__ = ["Authentication", "MappingCatalog", "Product", "Route", "load_catalog"]

PRODUCT_FILE = "product.yaml"
UNROUTED_FILE = "unrouted.yaml"
_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True)
class Authentication:
    spec: AuthenticationSpec
    gate: RequestGate = field(repr=False)
    response_schema: CompiledSchema = field(repr=False)


@dataclass(frozen=True)
class Route:
    spec: RouteSpec
    operation: Operation


@dataclass(frozen=True)
class Product:
    name: str
    spec: ProductSpec = field(repr=False)
    directory: Path
    errors: ErrorTable = field(repr=False)
    tables: Mapping[str, CodeTable] = field(repr=False)
    authentication: Authentication = field(repr=False)
    routes: tuple[Route, ...] = field(repr=False)
    binding: BindingProfile = field(default=STRICT, repr=False)


@dataclass(frozen=True)
class MappingCatalog:
    root: Path
    products: Mapping[str, Product]
    table_declarations: Mapping[str, Mapping[str, TableDeclaration]] = field(repr=False)
    # PDT's names (pdt/vocabulary.yaml): what the operations were checked against.
    pdt: PdtVocabulary = field(repr=False)
    # Error kind → (status, encoded body) for a path under no product (unrouted.yaml).
    unrouted: Mapping[str, tuple[int, bytes]] = field(default_factory=dict, repr=False)


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.schemas: dict[Path, CompiledSchema] = {}
        path = self.root / "pdt" / VOCABULARY_FILE
        # Errors name the file relative to mappings/, like every other file's.
        self.vocabulary: PdtVocabulary = parse_vocabulary(self.yaml(path), source=self.name(path))

    def name(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def resolve(self, base: Path, relative: str, *, owner: Path) -> Path:
        path = (base.parent / relative).resolve()
        if not path.is_relative_to(self.root):
            raise MappingError(self.name(owner), f"path {relative!r} leaves the mappings directory")
        return path

    def yaml(self, path: Path) -> Any:
        try:
            return load_yaml(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(self.name(path), f"cannot read: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise MappingError(self.name(path), f"not valid YAML: {exc}") from exc

    def model(self, model: type[_M], path: Path) -> tuple[_M, Any]:
        raw = self.yaml(path)
        try:
            return model.model_validate(raw), raw
        except ValidationError as exc:
            problem = exc.errors()[0]
            location = ".".join(str(part) for part in problem["loc"])
            raise MappingError(
                self.name(path),
                f"{location}: {problem['msg']}",
                # The location indexes the rule lists with their short forms written out.
                rule=_rule_at(operation_view(raw), problem["loc"]),
            ) from None

    def schema(self, base: Path, relative: str) -> CompiledSchema:
        path = self.resolve(base, relative, owner=base)
        if path not in self.schemas:
            self.schemas[path] = load_schema(path, root=self.root)
        return self.schemas[path]

    def failure(self, path: Path) -> Callable[[str, str], Exception]:
        source = self.name(path)
        return lambda rule, reason: MappingError(source, reason, rule=None if rule == "-" else rule)

    def product(self, product_file: Path) -> tuple[Product, Mapping[str, TableDeclaration]]:
        spec, _ = self.model(ProductSpec, product_file)
        if spec.product != product_file.parent.name:
            raise MappingError(
                self.name(product_file), f"product {spec.product!r} must live in a directory of that name"
            )
        errors_path = self.resolve(product_file, spec.errors, owner=product_file)
        errors = parse_error_table(self.yaml(errors_path), source=self.name(errors_path))
        binding = self.binding(product_file, spec)
        tables, declarations = self.tables(product_file, spec)
        authentication = self.authentication(product_file, spec.authentication, errors, binding)
        routes = tuple(self.route(product_file, route, errors, tables, binding) for route in spec.routes)
        seen: set[tuple[str, str]] = set()
        for route in routes:
            key = (route.spec.method, route.spec.path)
            if key in seen:
                raise MappingError(self.name(product_file), f"route {key[0]} {key[1]} is declared twice")
            seen.add(key)
        product = Product(
            spec.product, spec, product_file.parent, errors, tables, authentication, routes, binding
        )
        return product, declarations

    def binding(self, product_file: Path, spec: ProductSpec) -> BindingProfile:
        if spec.binding is None:
            return STRICT
        try:
            return build_profile(spec.binding)
        except ValueError as exc:
            raise MappingError(self.name(product_file), str(exc)) from None

    def tables(
        self, product_file: Path, spec: ProductSpec
    ) -> tuple[dict[str, CodeTable], dict[str, TableDeclaration]]:
        if spec.tables is None:
            return {}, {}
        tables_path = self.resolve(product_file, spec.tables, owner=product_file)
        declarations = parse_declarations(self.yaml(tables_path), source=self.name(tables_path))
        tables = {
            name: load_table(name, declaration, tables_path.parent, root=self.root)
            for name, declaration in declarations.items()
        }
        return tables, declarations

    def authentication(
        self, product_file: Path, spec: AuthenticationSpec, errors: ErrorTable, binding: BindingProfile
    ) -> Authentication:
        request = self.schema(product_file, spec.schema_file)
        response = self.schema(product_file, spec.response.schema_file)
        for name in (spec.username, spec.password):
            if request.resolve(parse_path(name)) is None:
                raise MappingError(
                    self.name(product_file), f"authentication: {request.source} has no {name!r}"
                )
        for name in (spec.response.token, spec.response.expiry.field):
            if response.resolve(parse_path(name)) is None:
                raise MappingError(
                    self.name(product_file), f"authentication: {response.source} has no {name!r}"
                )
        return Authentication(spec, RequestGate(request, compile_binder(request, binding), errors), response)

    def route(
        self,
        product_file: Path,
        spec: RouteSpec,
        errors: ErrorTable,
        tables: Mapping[str, CodeTable],
        binding: BindingProfile,
    ) -> Route:
        path = self.resolve(product_file, spec.operation, owner=product_file)
        operation = self.operation(path, errors, tables, binding)
        if spec.method == "GET" and operation.gate is not None:
            raise MappingError(self.name(path), "a GET route cannot take a request body")
        if operation.spec.pdt_call != "transaction" and spec.transaction_id is None:
            raise MappingError(
                self.name(product_file), f"route {spec.path}: {operation.spec.pdt_call} needs transaction_id"
            )
        if spec.transaction_id is not None and "{" + spec.transaction_id + "}" not in spec.path:
            raise MappingError(
                self.name(product_file), f"route {spec.path}: no path parameter {{{spec.transaction_id}}}"
            )
        return Route(spec, operation)

    def response_rules(self, path: Path, spec: OperationSpec) -> list[FieldRule]:
        if spec.response.rules_from is None:
            return spec.response.rules
        other_path = self.resolve(path, spec.response.rules_from, owner=path)
        other, _ = self.model(OperationSpec, other_path)
        if other.response.rules_from is not None:
            raise MappingError(
                self.name(path), "rules_from must name a file with its own rules, not another reference"
            )
        if self.resolve(other_path, other.response.source_schema, owner=other_path) != self.resolve(
            path, spec.response.source_schema, owner=path
        ):
            raise MappingError(
                self.name(path), f"rules_from {spec.response.rules_from!r} reads another PDT answer"
            )
        return other.response.rules

    def operation(
        self, path: Path, errors: ErrorTable, tables: Mapping[str, CodeTable], binding: BindingProfile
    ) -> Operation:
        spec, _ = self.model(OperationSpec, path)
        failure = self.failure(path)
        source = self.name(path)
        gate = request_mapper = pdt_request = channel = None
        if spec.request is not None:
            legacy = self.schema(path, spec.request.schema_file)
            gate = RequestGate(legacy, compile_binder(legacy, binding), errors)
            if spec.request.target_schema is not None:
                pdt_request = self.schema(path, spec.request.target_schema)
                request_mapper = compile_mapper(
                    spec.request.rules,
                    source=legacy,
                    target=pdt_request,
                    tables=tables,
                    failure=failure,
                    file=source,
                )
            if spec.channel is not None:
                channel = compile_value(
                    spec.channel, source=legacy, tables=tables, failure=failure, file=source, rule="channel"
                )
        elif spec.channel is not None:
            raise MappingError(source, "'channel' reads the request body, so 'request' is needed")
        self.check_pdt_names(source, spec, pdt_request)
        guards = []
        for module in spec.modules:
            checks = []
            for text in module.when_any:
                if pdt_request is None or pdt_request.resolve(parse_path(text)) is None:
                    raise MappingError(source, f"modules.{module.name}.when_any: PDT request has no {text!r}")
                checks.append(compile_getter(parse_path(text)))
            guards.append((module.name, tuple(checks)))
        follow_ups = []
        for position, follow_up in enumerate(spec.after):
            unless = None
            if follow_up.unless is not None:
                if gate is None:
                    raise MappingError(
                        source, "after: 'unless' reads the request body, so 'request' is needed"
                    )
                unless = compile_condition(
                    follow_up.unless,
                    source=gate.schema,
                    tables=tables,
                    failure=failure,
                    file=source,
                    rule=f"after[{position}]",
                )
            channel_names = self.vocabulary.channels[follow_up.channel]
            follow_ups.append(
                FollowUp(
                    follow_up.call, follow_up.channel, unless, channel_names.view_key, channel_names.module
                )
            )
        pdt_answer = self.schema(path, spec.response.source_schema)
        legacy_response = self.schema(path, spec.response.schema_file)
        response_mapper = compile_mapper(
            self.response_rules(path, spec),
            source=pdt_answer,
            target=legacy_response,
            tables=tables,
            failure=failure,
            file=source,
            check_reads=True,
        )
        return Operation(
            name=spec.operation,
            file=source,
            spec=spec,
            gate=gate,
            request_mapper=request_mapper,
            pdt_request=pdt_request,
            channel=channel,
            module_guards=tuple(guards),
            response_mapper=response_mapper,
            pdt_answer=pdt_answer,
            legacy_response=legacy_response,
            follow_ups=tuple(follow_ups),
        )

    def check_pdt_names(self, source: str, spec: OperationSpec, pdt_request: CompiledSchema | None) -> None:
        """Modules, channels and the token value member must be the PDT vocabulary's."""
        names = self.vocabulary
        for module in spec.modules:
            if module.name not in names.modules:
                raise MappingError(
                    source,
                    f"modules: {module.name!r} is not a PDT module (known: {', '.join(names.modules)})",
                )
        for follow_up in spec.after:
            if follow_up.channel not in names.channels:
                known = ", ".join(names.channels)
                raise MappingError(
                    source, f"after: {follow_up.channel!r} is not a PDT token channel (known: {known})"
                )
        if spec.pdt_call == "validate_token":
            member = names.token_validation.value
            required = pdt_request.schema.get("required", []) if pdt_request is not None else []
            if member not in required:
                # The PDT path reads the code from this member of the mapped body.
                raise MappingError(
                    source, f"validate_token: the PDT request schema must require {member!r} (the code)"
                )


def _rule_at(raw: Any, location: tuple[Any, ...]) -> str | None:
    """The id of the innermost rule a pydantic error location points into, if any."""
    node, found = raw, None
    for step in location:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found = node["id"]
    return found


def load_catalog(root: Path) -> MappingCatalog:
    if not root.is_dir():
        raise MappingError(str(root), "mappings directory not found")
    product_files = sorted(root.resolve().glob(f"*/{PRODUCT_FILE}"))
    if not product_files:
        raise MappingError(str(root), f"no */{PRODUCT_FILE} found")
    loader = _Loader(root)
    products: dict[str, Product] = {}
    declarations: dict[str, Mapping[str, TableDeclaration]] = {}
    for product_file in product_files:
        product, tables = loader.product(product_file)
        products[product.name] = product
        declarations[product.name] = tables
    _check_shared_routes(products)
    return MappingCatalog(loader.root, products, declarations, loader.vocabulary, _unrouted(loader))


def _unrouted(loader: _Loader) -> dict[str, tuple[int, bytes]]:
    path = loader.root / UNROUTED_FILE
    if not path.is_file():
        return {}
    spec, _ = loader.model(UnroutedSpec, path)
    return {kind: (answer.status, orjson.dumps(answer.body)) for kind, answer in spec.errors.items()}


def _check_shared_routes(products: Mapping[str, Product]) -> None:
    """Products may share a prefix (FFR and Mobile Trust do) but not a route, except
    authentication, which must then be declared identically."""
    owners: dict[tuple[str, str], str] = {}
    auth: dict[str, tuple[str, AuthenticationSpec]] = {}
    bindings: dict[str, tuple[str, BindingSpec | None]] = {}
    for product in products.values():
        for environment, prefix in product.spec.prefixes.items():
            full = prefix + product.spec.authentication.path
            if full in auth and auth[full][1] != product.spec.authentication:
                raise MappingError(
                    f"{product.name}/{PRODUCT_FILE}",
                    f"authentication at {full} ({environment}) differs from {auth[full][0]}'s",
                )
            if full in auth and bindings[full][1] != product.spec.binding:
                # One route serves them both, so it can bind in one way only.
                raise MappingError(
                    f"{product.name}/{PRODUCT_FILE}",
                    f"binding differs from {bindings[full][0]}'s, which shares authentication at {full}",
                )
            bindings[full] = (product.name, product.spec.binding)
            auth[full] = (product.name, product.spec.authentication)
            for route in product.routes:
                key = (route.spec.method, prefix + route.spec.path)
                if key in owners:
                    raise MappingError(
                        f"{product.name}/{PRODUCT_FILE}",
                        f"route {key[0]} {key[1]} also belongs to {owners[key]}",
                    )
                owners[key] = product.name
