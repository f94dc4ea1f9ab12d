"""The one transport every upstream call goes through (PDT and the legacy backends), routed by origin.

Each configured environment maps its origin (scheme, host, port) to a transport:
an in-process simulator app, or one shared pooled aiohttp session for real hosts.
A request for any other origin is refused before any network I/O: the proxy never
calls a host that is not in its configuration, whatever URL a bug or a redirect
produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import httpx
from starlette.types import ASGIApp

from proxy.config import LegacyEnvironment, LegacySettings, PdtEnvironment, PdtSettings, TlsSettings
from proxy.errors import ConfigError
from proxy.upstream._aiohttp import AiohttpTransport, pooled_transport, ssl_context
from proxy.upstream._errors import MAX_BODY_BYTES

__all__ = [
    "LEGACY_SIMULATOR_BASE_URL",
    "SIMULATOR_BASE_URL",
    "HostRoutingTransport",
    "build_transport",
    "direct_transport",
    "resolve_base_url",
]

# Never resolved: the routing transport hands these origins to the simulator apps.
SIMULATOR_BASE_URL = "http://pdt-simulator.internal"
LEGACY_SIMULATOR_BASE_URL = "http://legacy-simulator.internal"

Origin = tuple[str, str, int | None]


def resolve_base_url(environment: PdtEnvironment | LegacyEnvironment) -> str:
    """The URL calls to ``environment`` start with (no trailing slash)."""
    if not environment.is_simulator:
        return environment.base_url
    return LEGACY_SIMULATOR_BASE_URL if isinstance(environment, LegacyEnvironment) else SIMULATOR_BASE_URL


def _origin(url: httpx.URL) -> Origin:
    # httpx normalises case and drops a scheme's default port, so equal origins compare equal.
    return (url.scheme, url.host, url.port)


class HostRoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request to the transport configured for its origin, refuses the rest."""

    def __init__(self, routes: Mapping[Origin, httpx.AsyncBaseTransport]) -> None:
        self._routes = dict(routes)
        # One transport may serve several origins; close each once.
        self._transports = list({id(t): t for t in self._routes.values()}.values())

    @property
    def origins(self) -> frozenset[str]:
        """Every origin this transport will call, as ``scheme://host[:port]``: the allowlist."""
        return frozenset(
            f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
            for scheme, host, port in self._routes
        )

    @property
    def mounted_apps(self) -> list[Any]:
        """The in-process ASGI apps served here (the built-in simulators), once each."""
        return [t.app for t in self._transports if isinstance(t, httpx.ASGITransport)]

    def direct(self, base_url: str) -> AiohttpTransport | None:
        """The aiohttp transport serving ``base_url``'s origin, for clients that skip
        httpx's objects; None when the origin is routed elsewhere (a simulator) or not at all."""
        transport = self._routes.get(_origin(httpx.URL(base_url)))
        return transport if isinstance(transport, AiohttpTransport) else None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._routes.get(_origin(request.url))
        if transport is None:
            # The origin only: a path or query may carry an id or personal data, and
            # user info a secret.
            scheme, host, port = _origin(request.url)
            origin = f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
            raise httpx.ConnectError(f"refused: {origin} is not a configured upstream host", request=request)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()


def build_transport(
    settings: PdtSettings,
    *,
    simulator_app: ASGIApp | None = None,
    legacy: LegacySettings | None = None,
    legacy_app: ASGIApp | None = None,
) -> HostRoutingTransport:
    """The routing transport for every configured PDT (and, when given, legacy) environment.

    Raises ``ConfigError`` when an environment is a simulator and its app is not given.
    """
    network: dict[TlsSettings, httpx.AsyncBaseTransport] = {}

    def pooled(tls: TlsSettings, where: str) -> httpx.AsyncBaseTransport:
        # One pool for every real host with the same TLS settings (usually all of
        # them): the connection cap is the process's, not a host's. A host with its
        # own CA or client certificate gets a pool whose connections carry them.
        found = network.get(tls)
        if found is None:
            context = ssl_context(tls, where=where)
            found = pooled_transport(settings.pool, max_body_bytes=MAX_BODY_BYTES, context=context)
            network[tls] = found
        return found

    routes: dict[Origin, httpx.AsyncBaseTransport] = {}
    sections: list[tuple[str, Any, ASGIApp | None]] = [
        ("pdt", [(f"environments.{name}", env) for name, env in settings.environments.items()], simulator_app)
    ]
    if legacy is not None:
        sections.append(("legacy", legacy.all_environments(), legacy_app))
    for section, environments, app in sections:
        simulator: httpx.AsyncBaseTransport | None = None
        for name, environment in environments:
            transport: httpx.AsyncBaseTransport
            if environment.is_simulator:
                if app is None:
                    raise ConfigError(f"{section}.{name} is the simulator but no simulator app was given")
                if simulator is None:
                    # A crash inside the simulator must look like a remote 500, as a
                    # real host's would, not like a proxy bug.
                    simulator = httpx.ASGITransport(app=cast(Any, app), raise_app_exceptions=False)
                transport = simulator
            else:
                transport = pooled(environment.tls, f"{section}.{name}")
            routes[_origin(httpx.URL(resolve_base_url(environment)))] = transport
    return HostRoutingTransport(routes)


def direct_transport(transport: httpx.AsyncBaseTransport, base_url: str) -> AiohttpTransport | None:
    """The aiohttp transport a client may call directly for ``base_url`` (see
    ``AiohttpTransport.send``); None when requests must go through ``transport``
    (a simulator, a test double, an origin the allowlist refuses)."""
    if isinstance(transport, HostRoutingTransport):
        return transport.direct(base_url)
    return transport if isinstance(transport, AiohttpTransport) else None
