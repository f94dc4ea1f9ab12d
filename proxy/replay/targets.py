"""What a recorded legacy request is replayed against: the proxy's PDT path.

* ``SimulatorTarget``: in process, a runtime on embedded defaults (the built-in PDT
  simulator, the demo tenants, no ledger) and ``Dispatcher.pdt_side``, exactly the
  code a tenant in ``pdt`` stage runs. The mappings directory is the caller's, so
  a changed mapping is what gets tested.
* ``HttpTarget``: a running proxy at a URL, logged in as a tenant (legacy
  username/password) through each product family's authentication endpoint, with
  the proxy's own legacy client (token cache, one re-login on a 401).

Both answer a ``Reply``: status, decoded JSON body (None when not JSON) and, when
known, the PDT transaction id the answer carries.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from proxy.composition import build_runtime
from proxy.config import Environment, PdtEnvironment, Settings, SimulatorSettings, TimeoutSettings
from proxy.deadline import Deadline
from proxy.errors import ConfigError, ProxyError, UpstreamRejected
from proxy.mapping.catalog import MappingCatalog, Product
from proxy.recording.routing import ResolvedRoute
from proxy.runtime import Runtime
from proxy.stages.dispatch import Exchange, LegacyRequest
from proxy.state.corpus import CorpusEntry
from proxy.tenants import Tenant
from proxy.upstream.legacy import LegacyCall, LegacyClient, LegacyCredential, LegacyLogin

__all__ = [
    "HttpTarget",
    "ReplayTarget",
    "Reply",
    "SimulatorTarget",
    "TargetFailed",
    "decode_json",
    "simulator_settings",
]


class TargetFailed(Exception):
    """No answer to one replayed request (timeout, connection refused): counted, not fatal."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any


def decode_json(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        return None


class ReplayTarget(Protocol):
    async def send(self, entry: CorpusEntry, route: ResolvedRoute, path: str, request_id: str) -> Reply:
        """Send one recorded request (``path`` may carry a rewritten transaction id)."""

    async def aclose(self) -> None: ...


def simulator_settings(base: Settings, data_dir: Path) -> Settings:
    """``base`` turned into a self-contained replay runtime: both PDT environments on the
    built-in simulator (no latency, no faults), demo tenants, no ledger, a throwaway
    token key. Only the mappings directory (and limits) are kept from ``base``."""
    return base.model_copy(
        update={
            "pdt": base.pdt.model_copy(
                update={"environments": {"prd": PdtEnvironment(), "hml": PdtEnvironment()}}
            ),
            "simulator": SimulatorSettings(),
            "security": base.security.model_copy(update={"token_key": secrets.token_hex(32)}),
            "ledger": base.ledger.model_copy(update={"enabled": False}),
            "tenants_file": None,
            "data_dir": data_dir,
        }
    )


class SimulatorTarget:
    def __init__(self, runtime: Runtime, data_dir: tempfile.TemporaryDirectory[str] | None = None) -> None:
        self.runtime = runtime
        self._data_dir = data_dir
        self._tenants: dict[str, Tenant] = {}

    @classmethod
    def start(cls, base: Settings) -> SimulatorTarget:
        scratch = tempfile.TemporaryDirectory(prefix="pdt-proxy-replay-")
        runtime = build_runtime(simulator_settings(base, Path(scratch.name)))
        return cls(runtime, scratch)

    @property
    def catalog(self) -> MappingCatalog:
        return self.runtime.catalog

    def _tenant_for(self, product: Product) -> Tenant:
        found = self._tenants.get(product.name)
        if found is None:
            candidates = [t for t in self.runtime.tenants.tenants.values() if product.name in t.products]
            if not candidates:
                raise ConfigError(f"no demo tenant buys {product.name!r}: the simulator cannot replay it")
            found = self._tenants[product.name] = candidates[0]
        return found

    async def send(self, entry: CorpusEntry, route: ResolvedRoute, path: str, request_id: str) -> Reply:
        request = LegacyRequest(
            method=entry.method,
            path=path,
            query=entry.query.encode("latin-1"),
            body=entry.request_body.to_bytes(),
            content_type=entry.request_content_type,
        )
        exchange = Exchange(
            product=route.product,
            operation=route.route.operation,
            tenant=self._tenant_for(route.product),
            environment=entry.environment,
            request=request,
            transaction_id=route.transaction_id,
            request_id=request_id,
        )
        answer = await self.runtime.dispatcher.pdt_side(exchange, "pdt")
        return Reply(answer.status, decode_json(answer.body))

    async def aclose(self) -> None:
        try:
            await self.runtime.aclose()
        finally:
            if self._data_dir is not None:
                self._data_dir.cleanup()


class HttpTarget:
    def __init__(
        self,
        base_url: str,
        *,
        username: str,
        password: str,
        timeouts: TimeoutSettings | None = None,
        deadline_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._transport = transport or httpx.AsyncHTTPTransport()
        base = base_url.rstrip("/")
        environments: tuple[Environment, ...] = ("prd", "hml")
        self._client = LegacyClient(
            self._transport, dict.fromkeys(environments, base), timeouts or TimeoutSettings(read_s=30.0)
        )
        self._username = username
        self._password = password
        self._deadline_s = deadline_s
        self._base_url = base

    async def send(self, entry: CorpusEntry, route: ResolvedRoute, path: str, request_id: str) -> Reply:
        spec = route.product.authentication.spec
        login_path = route.product.spec.prefixes[entry.environment] + spec.path
        credential = LegacyCredential(entry.environment, login_path, self._username, self._password)
        call = LegacyCall(credential, LegacyLogin(login_path, spec), Deadline(self._deadline_s), request_id)
        try:
            answer = await self._client.forward(
                call,
                entry.method,
                path,
                query=entry.query.encode("latin-1"),
                body=entry.request_body.to_bytes(),
                content_type=entry.request_content_type,
            )
        except UpstreamRejected as error:
            if error.status in (400, 401):
                raise ConfigError(
                    f"{self._base_url}{login_path} refused the replay credentials ({error.status})"
                ) from None
            raise
        except ProxyError as error:
            raise TargetFailed(f"{error.kind}: no answer from {self._base_url}") from None
        return Reply(answer.status, decode_json(answer.body))

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._transport.aclose()
