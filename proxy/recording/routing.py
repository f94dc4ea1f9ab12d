"""Where a recorded exchange goes: its route, and the transaction id in its path. Pure.

A corpus entry names its product, operation and environment; the route is found
from those, and the path's transaction id parameter (``product.yaml``'s
``transaction_id``) is read by matching the path against the route's template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from proxy.config import Environment
from proxy.mapping.catalog import MappingCatalog, Product, Route

__all__ = ["ResolvedRoute", "resolve_route", "with_transaction_id"]

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class ResolvedRoute:
    product: Product
    route: Route
    transaction_id: str | None


@lru_cache(maxsize=256)
def _template(pattern: str) -> re.Pattern[str]:
    parts = _PARAMETER.split(pattern)
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)" for index, part in enumerate(parts)
    )
    return re.compile(f"{regex}/?", re.IGNORECASE)


def resolve_route(
    catalog: MappingCatalog, product_name: str, operation: str, environment: Environment, path: str
) -> ResolvedRoute:
    """The route of a recorded exchange; raises LookupError when the mappings lack it."""
    product = catalog.products.get(product_name)
    if product is None:
        raise LookupError(f"no product {product_name!r} in the mappings")
    prefix = product.spec.prefixes.get(environment)
    if prefix is None:
        raise LookupError(f"product {product_name!r} has no {environment} prefix")
    for route in product.routes:
        if route.operation.name != operation:
            continue
        match = _template(prefix + route.spec.path).fullmatch(path)
        if match is None:
            continue
        parameter = route.spec.transaction_id
        return ResolvedRoute(product, route, match[parameter] if parameter else None)
    raise LookupError(f"no route of {product_name!r} serves {operation!r} at {path!r}")


def with_transaction_id(path: str, old: str, new: str) -> str:
    """``path`` with the path segment ``old`` replaced by ``new``."""
    return "/".join(new if segment == old else segment for segment in path.split("/"))
