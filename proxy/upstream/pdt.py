"""The PDT client: one instance per process, one method per PDT call the proxy makes.

Every call authenticates through the shared token cache, is bounded by the legacy
request's deadline, goes through the host's breaker and retry rules
(``proxy.upstream.resilience``: only logins and GETs are repeated, and any call
whose connection failed before it was sent), and fails only with the proxy's own
errors (``proxy.errors``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from proxy.config import PdtSettings, ResilienceSettings
from proxy.credentials import PdtCredential
from proxy.deadline import Deadline
from proxy.errors import ConfigError, UpstreamMalformed, UpstreamTimeout
from proxy.pdt_vocabulary import PdtVocabulary, default_vocabulary
from proxy.upstream._errors import (
    MAX_BODY_BYTES,
    SUCCESS,
    check_size,
    check_status,
    most_meaningful,
    parse_json,
    translated,
)
from proxy.upstream._paths import safe_segment
from proxy.upstream.httpx_adapter import as_upstream
from proxy.upstream.resilience import Reply, Resilience, UpstreamTarget
from proxy.upstream.seam import SendLimits, UpstreamTransport
from proxy.upstream.tokens import IssuedToken, TokenCache
from proxy.upstream.transport import resolve_base_url

__all__ = ["PdtCall", "PdtClient"]

_ACCEPT = {"Accept": "application/json"}
_ACCEPT_AND_SEND = {"Accept": "application/json", "Content-Type": "application/json"}

_Json = type[dict[str, Any]] | type[list[Any]]


@dataclass(frozen=True, slots=True)
class PdtCall:
    """What every PDT call made for one legacy request shares."""

    credential: PdtCredential
    deadline: Deadline
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class _Endpoints:
    base: str
    authentication: str
    transaction: str
    target: UpstreamTarget


@dataclass(frozen=True, slots=True)
class _Channel:
    """One token channel's names, resolved once: what a send or a validation needs."""

    send_suffix: str
    validate_suffix: str
    send_call: str
    validate_call: str


class PdtClient:
    """PDT's API over a long-lived upstream transport that the caller owns and closes.

    Every request goes through ``UpstreamTransport.send`` (``proxy.upstream.seam``):
    plain strings and bytes, no HTTP client's request or response objects, no URL
    merging, cookies, auth or redirect machinery a proxy with fixed upstreams never
    uses. Redirects are not followed and no cookie is ever kept, by construction.
    An httpx transport (a unit test's respx fake) is adapted to the seam.

    Every PDT path and member name comes from ``vocabulary`` (``mappings/pdt/``),
    resolved to ready strings here so that no call looks a name up.
    """

    def __init__(
        self,
        transport: UpstreamTransport | httpx.AsyncBaseTransport,
        settings: PdtSettings,
        *,
        resilience: Resilience | None = None,
        clock: Callable[[], float] = time.monotonic,
        vocabulary: PdtVocabulary | None = None,
    ) -> None:
        self.vocabulary = names = vocabulary or default_vocabulary()
        self._transport = as_upstream(transport)
        self._clock = clock
        self._resilience = resilience or Resilience(ResilienceSettings())
        timeouts = settings.timeouts
        self._limits = SendLimits(
            connect_s=timeouts.connect_s,
            read_s=timeouts.read_s,
            pool_s=timeouts.pool_s,
            write_s=timeouts.write_s,
            max_body_bytes=MAX_BODY_BYTES,
        )
        self._call_timeout_s = settings.timeouts.read_s
        self._endpoints: dict[str, _Endpoints] = {}
        for name, environment in settings.environments.items():
            base = resolve_base_url(environment)
            self._endpoints[name] = _Endpoints(
                base,
                f"{base}{names.authentication.path}",
                f"{base}{names.transaction.path}",
                self._resilience.target("pdt", base),
            )
        self._transaction_prefix = names.transaction.path
        self._packs_prefix = names.packs.path
        self._all_suffix = f"/{names.transaction.all}"
        self._module_suffixes = {name: f"/{module.path}" for name, module in names.modules.items()}
        self._channels = {
            name: _Channel(
                f"/{channel.path}", f"/{channel.validate_path}", f"{name}_token", f"{name}_token_validate"
            )
            for name, channel in names.channels.items()
        }
        auth = names.authentication
        self._login_members = (auth.username, auth.password)
        self._answer_members = (auth.token, auth.lifetime)
        self._value_member = names.token_validation.value
        self._pack_urls: dict[tuple[str, str], str] = {}
        self._tokens: TokenCache[PdtCredential] = TokenCache(
            self._authenticate, refresh_margin_s=settings.token_refresh_margin_s, clock=clock
        )

    async def create_transaction(self, call: PdtCall, body: dict[str, Any]) -> dict[str, Any]:
        url = self._endpoints_for(call).transaction
        result: dict[str, Any] = await self._call(call, "transaction", "POST", url, dict, body=body)
        return result

    async def request_modules(
        self, call: PdtCall, transaction_id: str, modules: Sequence[str]
    ) -> dict[str, Any]:
        """Each module's result (a list) by module name, the modules requested in parallel.

        When one fails the others are cancelled and the most meaningful failure is raised.
        """
        names = list(dict.fromkeys(modules))
        unknown = sorted(set(names) - self._module_suffixes.keys())
        if unknown:
            raise ValueError(f"unknown PDT modules {unknown}")
        prefix = self._transaction_path(call, transaction_id)
        if len(names) == 1:
            # The common single-module case skips the task machinery.
            return {names[0]: await self._module(call, prefix, names[0])}
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {name: group.create_task(self._module(call, prefix, name)) for name in names}
        except ExceptionGroup as failures:
            raise most_meaningful(failures) from None
        return {name: task.result() for name, task in tasks.items()}

    async def create_pack(self, call: PdtCall, pack_name: str, body: dict[str, Any]) -> dict[str, Any]:
        base = self._endpoints_for(call).base
        url = self._pack_urls.get((base, pack_name))
        if url is None:
            # Pack names come from the tenant file: few, fixed, parsed once.
            url = f"{base}{self._packs_prefix}/{safe_segment(pack_name, 'pack')}"
            self._pack_urls[(base, pack_name)] = url
        result: dict[str, Any] = await self._call(call, "pack", "POST", url, dict, body=body)
        return result

    async def get_all(self, call: PdtCall, transaction_id: str) -> dict[str, Any]:
        url = f"{self._transaction_path(call, transaction_id)}{self._all_suffix}"
        result: dict[str, Any] = await self._call(call, "all", "GET", url, dict, id_based=True)
        return result

    async def send_token(self, call: PdtCall, transaction_id: str, channel: str) -> dict[str, Any]:
        names = self._channel(channel)
        url = f"{self._transaction_path(call, transaction_id)}{names.send_suffix}"
        result: dict[str, Any] = await self._call(call, names.send_call, "POST", url, dict, id_based=True)
        return result

    async def validate_token(
        self, call: PdtCall, transaction_id: str, channel: str, value: str
    ) -> dict[str, Any]:
        names = self._channel(channel)
        url = f"{self._transaction_path(call, transaction_id)}{names.validate_suffix}"
        body = {self._value_member: value}
        result: dict[str, Any] = await self._call(
            call, names.validate_call, "POST", url, dict, body=body, id_based=True
        )
        return result

    async def aclose(self) -> None:
        """Stop token fetches still in flight; the transport is closed by its owner."""
        await self._tokens.aclose()

    def _endpoints_for(self, call: PdtCall) -> _Endpoints:
        try:
            return self._endpoints[call.credential.environment]
        except KeyError:
            raise ConfigError(f"PDT environment {call.credential.environment!r} is not configured") from None

    def _transaction_path(self, call: PdtCall, transaction_id: str) -> str:
        segment = safe_segment(transaction_id, "transaction")
        return f"{self._endpoints_for(call).base}{self._transaction_prefix}/{segment}"

    def _channel(self, channel: str) -> _Channel:
        try:
            return self._channels[channel]
        except KeyError:
            raise ValueError(f"unknown token channel {channel!r}") from None

    async def _module(self, call: PdtCall, prefix: str, name: str) -> list[Any]:
        url = f"{prefix}{self._module_suffixes[name]}"
        result: list[Any] = await self._call(call, name, "POST", url, list, id_based=True)
        return result

    async def _call(
        self,
        call: PdtCall,
        name: str,
        method: str,
        url: str,
        expected: _Json,
        *,
        body: dict[str, Any] | None = None,
        id_based: bool = False,
    ) -> Any:
        """One authenticated exchange, its attempts bounded by the call timeout and the deadline."""
        deadline = call.deadline
        remaining_s = deadline.remaining()
        if remaining_s <= 0:
            raise UpstreamTimeout(f'PDT call="{name}" not sent: the request deadline has passed', call=name)
        content = None if body is None else orjson.dumps(body)
        base_headers = _ACCEPT if content is None else _ACCEPT_AND_SEND
        credential = call.credential
        endpoints = self._endpoints_for(call)
        # Only reads repeat safely: a POST that reached PDT may have been applied.
        safe = method == "GET"
        with translated(name):
            # The token wait too: a login stuck for every caller must not outlive this request.
            async with asyncio.timeout(remaining_s):
                token = await self._tokens.get(credential)
                headers = _headers(base_headers, token, call.request_id)
                reply = await self._send(
                    endpoints, name, method, url, headers, content, safe, deadline.remaining
                )
                if reply.status == 401:
                    # PDT refused the token before doing anything, so repeating the
                    # call once with a fresh token cannot apply it twice.
                    self._tokens.invalidate(credential, token)
                    token = await self._tokens.get(credential)
                    headers = _headers(base_headers, token, call.request_id)
                    reply = await self._send(
                        endpoints, name, method, url, headers, content, safe, deadline.remaining
                    )
            check_status(name, reply.status, id_based=id_based)
            return parse_json(name, reply.body, expected)

    async def _authenticate(self, credential: PdtCredential) -> IssuedToken:
        # Shared by every caller waiting on this credential, so bounded by the call
        # timeout alone; each waiter still gives up at its own deadline. A login
        # changes nothing at PDT: it is repeated like a read.
        username, password = self._login_members
        content = orjson.dumps({username: credential.username, password: credential.password})
        endpoints = self._endpoints[credential.environment]
        budget = Deadline(self._call_timeout_s, clock=self._clock)
        with translated("authentication"):
            async with asyncio.timeout(self._call_timeout_s):
                reply = await self._send(
                    endpoints,
                    "authentication",
                    "POST",
                    endpoints.authentication,
                    _ACCEPT_AND_SEND,
                    content,
                    True,
                    budget.remaining,
                )
            # A 401 here means the tenant's PDT credentials are wrong: UpstreamRejected.
            check_status("authentication", reply.status, id_based=False)
            return _issued_token(parse_json("authentication", reply.body, dict), *self._answer_members)

    async def _send(
        self,
        endpoints: _Endpoints,
        name: str,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        safe: bool,
        remaining: Callable[[], float],
    ) -> Reply:
        """The one place a request leaves the proxy for PDT, through the host's guard."""
        transport = self._transport
        limits = self._limits

        async def attempt() -> Reply:
            got = await transport.send(method, url, headers, content, limits)
            if got.status not in SUCCESS:
                # Error bodies are not used: their status says all the proxy needs.
                return Reply(got.status, retry_after=got.retry_after)
            return Reply(got.status, check_size(got.body, name))

        return await self._resilience.send(
            endpoints.target, name, attempt, safe=safe, timeout_s=self._call_timeout_s, remaining=remaining
        )


def _headers(base: dict[str, str], token: str, request_id: str | None) -> dict[str, str]:
    headers = {**base, "Authorization": f"Bearer {token}"}
    if request_id:
        headers["X-Request-Id"] = request_id
    return headers


def _issued_token(answer: dict[str, Any], token_member: str, lifetime_member: str) -> IssuedToken:
    token, lifetime = answer.get(token_member), answer.get(lifetime_member)
    if (
        not isinstance(token, str)
        or not token
        or isinstance(lifetime, bool)
        or not isinstance(lifetime, int | float)
        or lifetime <= 0
    ):
        raise UpstreamMalformed(
            'PDT call="authentication" answered without a token or a positive lifetime', call="authentication"
        )
    return IssuedToken(token, float(lifetime))
