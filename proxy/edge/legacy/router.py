"""The legacy route table, compiled from one configuration set.

Routes come from the mapping catalog, not from code: each product's
``product.yaml`` names its prefixes (PRD and HML), its authentication endpoint and
its operations. Paths match as the product's ASP.NET routing matched them: Web
API 2 and ASP.NET Core both took a template in any letter case and with or
without a trailing slash (``routing`` in the binding profile); ``{name}`` is one
path segment. A path under a product's prefix that no route takes is that
family's 404, or its 405 when a route takes the path with another method; a
path under no prefix is not the legacy surface's at all (``families``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from proxy.config import Environment
from proxy.http.errors import ErrorFamilies
from proxy.live import ConfigSet
from proxy.mapping.binding_profile import RoutingRules
from proxy.mapping.catalog import MappingCatalog, Product
from proxy.mapping.catalog import Route as MappedRoute

__all__ = [
    "AuthTarget",
    "Matched",
    "OperationTarget",
    "RouteTable",
    "RouteTables",
    "compile_template",
]

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthTarget:
    """A product family's login endpoint on one environment prefix."""

    product: Product
    environment: Environment
    # Products sharing the endpoint (FFR and Mobile Trust): the token names all of them.
    products: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationTarget:
    product: Product
    route: MappedRoute
    environment: Environment
    # The template, never the URL: a transaction id in a path is still not for logs.
    template: str


Target = AuthTarget | OperationTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class Matched:
    target: Target
    params: Mapping[str, str]

    def path(self) -> str:
        """The path as declared: what the legacy backend is sent, whatever case the client used."""
        template = self.target.template if isinstance(self.target, OperationTarget) else ""
        return template.format_map(self.params) if self.params else template


def compile_template(path: str, routing: RoutingRules) -> re.Pattern[str]:
    """``/a/{id}`` as a regular expression; literal text is matched literally."""
    pattern: list[str] = []
    position = 0
    for parameter in _PARAMETER.finditer(path):
        pattern.append(re.escape(path[position : parameter.start()]))
        pattern.append(f"(?P<{parameter.group(1)}>[^/]+)")
        position = parameter.end()
    pattern.append(re.escape(path[position:]))
    slash = "/?" if routing.trailing_slash else ""
    return re.compile("^" + "".join(pattern) + slash + "$", re.IGNORECASE if routing.ignore_case else 0)


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: re.Pattern[str]
    methods: frozenset[str]
    target: Target


class RouteTable:
    """Every legacy route of every product of one catalog, on each of its prefixes."""

    def __init__(self, catalog: MappingCatalog) -> None:
        self.families = ErrorFamilies(catalog.products.values())
        self._entries = tuple(_entries(catalog))

    def match(self, method: str, path: str) -> Matched | int:
        """The route taking ``method`` on ``path``, else 405 if one takes the path, else 404."""
        status = 404
        for entry in self._entries:
            found = entry.pattern.match(path)
            if found is None:
                continue
            if method in entry.methods:
                return Matched(target=entry.target, params=found.groupdict())
            status = 405
        return status


def _methods(method: str) -> frozenset[str]:
    # A GET route answers HEAD too, as every HTTP router the families ran on did.
    return frozenset({"GET", "HEAD"}) if method == "GET" else frozenset({method})


def _entries(catalog: MappingCatalog) -> list[_Entry]:
    entries: list[_Entry] = []
    auth_paths: set[str] = set()
    for product in catalog.products.values():
        routing = product.binding.routing
        for environment, prefix in product.spec.prefixes.items():
            auth_spec = product.authentication.spec
            auth_path = prefix + auth_spec.path
            if auth_path not in auth_paths:
                sharing = frozenset(
                    other.name
                    for other in catalog.products.values()
                    if other.spec.prefixes.get(environment) == prefix
                    and other.authentication.spec.path == auth_spec.path
                )
                target = AuthTarget(product=product, environment=environment, products=sharing)
                entries.append(_Entry(compile_template(auth_path, routing), frozenset({"POST"}), target))
                auth_paths.add(auth_path)
            for route in product.routes:
                template = prefix + route.spec.path
                operation = OperationTarget(
                    product=product, route=route, environment=environment, template=template
                )
                entries.append(
                    _Entry(compile_template(template, routing), _methods(route.spec.method), operation)
                )
    return entries


class RouteTables:
    """The table of the configuration set a request reads, compiled once per set object."""

    def __init__(self) -> None:
        self._set: ConfigSet | None = None
        self._table: RouteTable | None = None

    def for_set(self, config: ConfigSet) -> RouteTable:
        table = self._table
        if table is None or config is not self._set:
            # One entry is enough: a swap replaces the set for every later request.
            table = RouteTable(config.catalog)
            self._set, self._table = config, table
        return table
