"""The transport every upstream call goes through (PDT and the legacy backends), routed by origin.

Each configured environment maps its origin (scheme, host, port) to a transport:
the in-process simulator app, or one shared pooled aiohttp session for real hosts.
A request for any other origin is refused before any network I/O: the proxy never
calls a host that is not in its configuration, whatever URL a bug or a redirect
produces. The router is itself an ``UpstreamTransport`` wrapping the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from starlette.types import ASGIApp

from proxy.config import LegacyEnvironment, LegacySettings, PdtEnvironment, PdtSettings, TlsSettings
from proxy.errors import ConfigError
from proxy.upstream._aiohttp import pooled_transport, ssl_context
from proxy.upstream.failures import ConnectFailed
from proxy.upstream.in_process import InProcessTransport
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport

__all__ = [
    "LEGACY_SIMULATOR_BASE_URL",
    "SIMULATOR_BASE_URL",
    "HostRoutingTransport",
    "build_transport",
    "origin_prefix",
    "resolve_base_url",
]

# Never resolved: the routing transport hands these origins to the simulator apps.
SIMULATOR_BASE_URL = "http://pdt-simulator.internal"
LEGACY_SIMULATOR_BASE_URL = "http://legacy-simulator.internal"

Origin = tuple[str, str, int | None]

# How many spellings of configured origins the router remembers (a handful in practice).
_PREFIX_CACHE = 64


def resolve_base_url(environment: PdtEnvironment | LegacyEnvironment) -> str:
    """The URL calls to ``environment`` start with (no trailing slash)."""
    if not environment.is_simulator:
        return environment.base_url
    return LEGACY_SIMULATOR_BASE_URL if isinstance(environment, LegacyEnvironment) else SIMULATOR_BASE_URL


def origin_prefix(url: str) -> str:
    """``url`` up to the end of its authority (``scheme://host[:port]``), as written."""
    start = url.find("://")
    start = 0 if start < 0 else start + 3
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if 0 <= found < end:
            end = found
    return url[:end]


def _origin(url: httpx.URL) -> Origin:
    # httpx normalises case and drops a scheme's default port, so equal origins compare equal.
    return (url.scheme, url.host, url.port)


def _spelled(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


class HostRoutingTransport:
    """Sends each request to the transport configured for its origin, refuses the rest."""

    def __init__(self, routes: Mapping[Origin, UpstreamTransport]) -> None:
        self._routes = dict(routes)
        # One transport may serve several origins; close each once.
        self._transports = list({id(t): t for t in self._routes.values()}.values())
        # The origin as a URL spells it -> its transport: a string slice and one dict
        # lookup per request instead of parsing the URL. Only configured origins are
        # remembered, so the table stays as small as the configuration.
        self._by_prefix: dict[str, UpstreamTransport] = {}

    @property
    def origins(self) -> frozenset[str]:
        """Every origin this transport will call, as ``scheme://host[:port]``: the allowlist."""
        return frozenset(_spelled(origin) for origin in self._routes)

    @property
    def mounted_apps(self) -> list[Any]:
        """The in-process ASGI apps served here (the built-in simulators), once each."""
        return [t.app for t in self._transports if isinstance(t, InProcessTransport)]

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limits: SendLimits,
    ) -> UpstreamAnswer:
        prefix = origin_prefix(url)
        transport = self._by_prefix.get(prefix)
        if transport is None:
            transport = self._route(url, prefix)
        return await transport.send(method, url, headers, body, limits)

    def _route(self, url: str, prefix: str) -> UpstreamTransport:
        try:
            origin = _origin(httpx.URL(url))
        except httpx.InvalidURL:
            raise ConnectFailed("refused: not a valid upstream URL") from None
        transport = self._routes.get(origin)
        if transport is None:
            # The origin only: a path or query may carry an id or personal data, and
            # user info a secret.
            raise ConnectFailed(f"refused: {_spelled(origin)} is not a configured upstream host")
        if len(self._by_prefix) < _PREFIX_CACHE and "@" not in prefix:
            self._by_prefix[prefix] = transport
        return transport

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
    network: dict[TlsSettings, UpstreamTransport] = {}

    def pooled(tls: TlsSettings, where: str) -> UpstreamTransport:
        # One pool for every real host with the same TLS settings (usually all of
        # them): the connection cap is the process's, not a host's. A host with its
        # own CA or client certificate gets a pool whose connections carry them.
        found = network.get(tls)
        if found is None:
            found = pooled_transport(settings.pool, context=ssl_context(tls, where=where))
            network[tls] = found
        return found

    routes: dict[Origin, UpstreamTransport] = {}
    sections: list[tuple[str, Any, ASGIApp | None]] = [
        ("pdt", [(f"environments.{name}", env) for name, env in settings.environments.items()], simulator_app)
    ]
    if legacy is not None:
        sections.append(("legacy", legacy.all_environments(), legacy_app))
    for section, environments, app in sections:
        simulator: UpstreamTransport | None = None
        for name, environment in environments:
            transport: UpstreamTransport
            if environment.is_simulator:
                if app is None:
                    raise ConfigError(f"{section}.{name} is the simulator but no simulator app was given")
                # One in-process transport per simulator app, shared by its environments.
                transport = simulator = simulator or InProcessTransport(app)
            else:
                transport = pooled(environment.tls, f"{section}.{name}")
            routes[_origin(httpx.URL(resolve_base_url(environment)))] = transport
    return HostRoutingTransport(routes)
