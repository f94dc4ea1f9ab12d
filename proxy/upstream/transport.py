"""The one transport every PDT call goes through, routed by origin.

Each configured PDT environment maps its origin (scheme, host, port) to a transport:
the in-process simulator app, or one shared pooled aiohttp session for real hosts.
A request for any other origin is refused before any network I/O: the proxy never
calls a host that is not in its configuration, whatever URL a bug or a redirect
produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import httpx
from starlette.types import ASGIApp

from proxy.config import PdtEnvironment, PdtSettings
from proxy.errors import ConfigError
from proxy.upstream._aiohttp import pooled_transport
from proxy.upstream._errors import MAX_BODY_BYTES

__all__ = ["SIMULATOR_BASE_URL", "HostRoutingTransport", "build_transport", "resolve_base_url"]

# Never resolved: the routing transport hands this origin to the simulator app.
SIMULATOR_BASE_URL = "http://pdt-simulator.internal"

Origin = tuple[str, str, int | None]


def resolve_base_url(environment: PdtEnvironment) -> str:
    """The URL PDT calls for ``environment`` start with (no trailing slash)."""
    return SIMULATOR_BASE_URL if environment.is_simulator else environment.base_url


def _origin(url: httpx.URL) -> Origin:
    # httpx normalises case and drops a scheme's default port, so equal origins compare equal.
    return (url.scheme, url.host, url.port)


class HostRoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request to the transport configured for its origin, refuses the rest."""

    def __init__(self, routes: Mapping[Origin, httpx.AsyncBaseTransport]) -> None:
        self._routes = dict(routes)
        # One transport may serve several origins; close each once.
        self._transports = list({id(t): t for t in self._routes.values()}.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._routes.get(_origin(request.url))
        if transport is None:
            # The origin only: a path or query may carry an id or personal data, and
            # user info a secret.
            scheme, host, port = _origin(request.url)
            origin = f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"
            raise httpx.ConnectError(f"refused: {origin} is not a configured PDT host", request=request)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()


def build_transport(settings: PdtSettings, *, simulator_app: ASGIApp | None = None) -> HostRoutingTransport:
    """The routing transport for every configured PDT environment.

    Raises ``ConfigError`` when an environment is the simulator and no app is given.
    """
    simulator: httpx.AsyncBaseTransport | None = None
    network: httpx.AsyncBaseTransport | None = None
    routes: dict[Origin, httpx.AsyncBaseTransport] = {}
    for name, environment in settings.environments.items():
        transport: httpx.AsyncBaseTransport
        if environment.is_simulator:
            if simulator_app is None:
                raise ConfigError(f"pdt.environments.{name} is the simulator but no simulator app was given")
            if simulator is None:
                # A crash inside the simulator must look like a remote 500, as a real
                # host's would, not like a proxy bug.
                simulator = httpx.ASGITransport(app=cast(Any, simulator_app), raise_app_exceptions=False)
            transport = simulator
        else:
            network = network or pooled_transport(settings.pool, max_body_bytes=MAX_BODY_BYTES)
            transport = network
        routes[_origin(httpx.URL(resolve_base_url(environment)))] = transport
    return HostRoutingTransport(routes)
