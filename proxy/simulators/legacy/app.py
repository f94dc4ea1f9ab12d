"""``create_legacy_simulator``: the three legacy products as one Starlette app."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from proxy.errors import ConfigError, ProxyError
from proxy.mapping.catalog import MappingCatalog
from proxy.mapping.error_table import ErrorTable
from proxy.simulators.catalogue import load_catalogue
from proxy.simulators.legacy.middleware import LegacyLatencyAndFaults, Sleep
from proxy.simulators.legacy.perturbation import Disagreement
from proxy.simulators.legacy.routes import SIMULATED_PRODUCTS, legacy_routes
from proxy.simulators.legacy.settings import LegacySimulatorSettings
from proxy.simulators.legacy.state import LegacySimulator, grants_from
from proxy.simulators.legacy.store import LegacyStore
from proxy.simulators.legacy.vocabulary import load_vocabularies
from proxy.simulators.legacy.wire import JSON_MEDIA_TYPE, trace_id

__all__ = ["create_legacy_simulator"]

_KIND_OF_STATUS = {404: "route_not_found", 405: "method_not_allowed"}


def create_legacy_simulator(
    settings: LegacySimulatorSettings,
    *,
    catalog: MappingCatalog,
    accounts: Mapping[str, str],
    grants: Mapping[str, Iterable[str]] | None = None,
    catalogue_path: Path | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Sleep = asyncio.sleep,
) -> Starlette:
    """Build the app; its state (store, sessions, accounts) is ``app.state.legacy_simulator``.

    ``accounts`` maps legacy username to password; ``grants`` limits a username to
    some products (a username it does not list reaches all three). ``catalogue_path``
    defaults to the PDT insight catalogue under the mappings (``pdt/insights.csv``),
    the one the PDT simulator draws from, so both tell the same story.
    """
    catalogue = load_catalogue(catalogue_path or catalog.root / "pdt" / "insights.csv")
    missing = sorted(SIMULATED_PRODUCTS - set(catalog.products))
    if missing:
        raise ConfigError(f"{catalog.root}: the legacy simulator needs products {missing}")
    simulator = LegacySimulator(
        settings=settings,
        catalog=catalog,
        vocabularies=load_vocabularies(catalog),
        catalogue=catalogue,
        disagreement=Disagreement(
            rate=settings.disagreement_rate,
            key=settings.disagreement_key,
            max_score_shift=settings.max_score_shift,
        ),
        store=LegacyStore(settings.max_transactions),
        accounts=dict(accounts),
        grants=grants_from(grants),
        clock=clock,
    )
    errors_for = _errors_by_prefix(catalog)
    middleware: list[Middleware] = []
    if settings.latency_ms or settings.latency_jitter_ms or settings.fault_rate or settings.timeout_rate:
        middleware.append(
            Middleware(
                LegacyLatencyAndFaults,
                settings=settings,
                # Seeded on purpose: tests and benchmarks replay the same latency and faults.
                rng=random.Random(settings.seed),  # noqa: S311
                sleep=sleep,
                errors_for=errors_for,
            )
        )

    def unknown_route(request: Request, exc: Exception) -> Response:
        """Unknown paths and wrong methods answer in the family's shape too."""
        assert isinstance(exc, HTTPException)
        table = errors_for(request.url.path) or _fallback_table(catalog)
        status, body = table.render(
            _KIND_OF_STATUS.get(exc.status_code, ProxyError.kind), trace_id=trace_id()
        )
        return Response(body, status, headers=exc.headers, media_type=JSON_MEDIA_TYPE)

    app = Starlette(
        routes=legacy_routes(simulator),
        middleware=middleware,
        exception_handlers={HTTPException: unknown_route},
    )
    app.state.legacy_simulator = simulator
    return app


def _errors_by_prefix(catalog: MappingCatalog) -> Callable[[str], ErrorTable | None]:
    """The error table of the product family whose path prefix a path is under."""
    prefixes = sorted(
        (
            (prefix, product.errors)
            for name, product in catalog.products.items()
            if name in SIMULATED_PRODUCTS
            for prefix in product.spec.prefixes.values()
        ),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )

    def errors_for(path: str) -> ErrorTable | None:
        for prefix, table in prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return table
        return None

    return errors_for


def _fallback_table(catalog: MappingCatalog) -> ErrorTable:
    return next(product.errors for name, product in catalog.products.items() if name in SIMULATED_PRODUCTS)
