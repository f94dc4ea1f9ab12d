"""A fake PDT and a fake legacy backend behind one httpx transport, able to break any one call.

The proxy's own code path stays real (edge, dispatcher, PDT and legacy clients,
resilience); only the far side of the transport is this double. It answers every
PDT call and every legacy call with a small canned answer that the shipped
mappings turn into a valid legacy answer, and, once ``arm``-ed, replaces the
answer to one named call with a fault (:data:`FAULTS`).

Every body a fault sends and every exception message it raises carries
:data:`MARKER` (error bodies an upstream-looking stack trace too), so a test can
prove that nothing the upstream said reaches the legacy client or the logs. The
one exception is ``missing-field``: the healthy answer minus a field, nothing added.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
import orjson

from proxy.upstream._errors import MAX_BODY_BYTES
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport
from proxy.upstream.transport import LEGACY_SIMULATOR_BASE_URL, SIMULATOR_BASE_URL

__all__ = [
    "CHUNK",
    "FAULTS",
    "HANG",
    "LEGACY_ANSWER",
    "MARKER",
    "MAX_BODY_BYTES",
    "PASSTHROUGH",
    "PDT_TRANSACTION_ID",
    "Fault",
    "FaultyUpstream",
    "HugeAnswerServer",
    "Injected",
    "MeasuringTransport",
    "Sent",
    "Upstream",
]

# Distinctive enough that it cannot occur in any legacy answer or log line by chance.
MARKER = "UPSTREAM-LEAK-7f3c9e21"
# What an upstream error page typically holds besides the marker: a stack trace.
_LEAKY = {"message": f"{MARKER} internal detail", "stack": "Traceback (most recent call last): at Pdt.Api()"}

PDT_HOST = httpx.URL(SIMULATOR_BASE_URL).host
LEGACY_HOST = httpx.URL(LEGACY_SIMULATOR_BASE_URL).host
PDT_TRANSACTION_ID = "0b7d4c1e-5a2f-4e8b-9c3d-7f6e5a4b3c2d"
STAMP = "2026-11-23T10:00:00.000Z"
CHUNK = 64 * 1024
TEN_MB = 10 * 1024 * 1024

# The legacy backend's answer to any forwarded call: odd spacing on purpose, so
# byte-for-byte passing is visible (a re-encoded body would lose it).
LEGACY_ANSWER = b'{"answeredBy":  "legacy-double", "ok": true}'
_JSON = "application/json; charset=utf-8"

Upstream = Literal["pdt", "legacy"]


@dataclass(frozen=True, slots=True)
class Sent:
    """One request that reached the double (an attempt, not a logical call)."""

    upstream: Upstream
    call: str
    method: str
    path: str


@dataclass(frozen=True, slots=True)
class Injected:
    """An answer a fault gave (``content`` None when it was streamed)."""

    status: int
    content_type: str | None
    content: bytes | None


@dataclass(frozen=True, slots=True)
class Canned:
    """The healthy answer a call would get."""

    status: int
    value: Any  # JSON, or bytes for a legacy forward (passed through untouched)

    @property
    def content(self) -> bytes:
        return self.value if isinstance(self.value, bytes) else orjson.dumps(self.value)


# --- the healthy upstreams -----------------------------------------------------------

_SCORE = {"value": 41.3, "reason": "Initial", "createdAt": STAMP}
# Document+Email is a pair every product's rating table knows.
_RATING = {"value": 3, "reason": "Initial", "createdAt": STAMP, "relatedTo": ["Document", "Email"]}
# GER2100 has a row in every product's code table.
_INSIGHT = {
    "code": "GER2100",
    "description": "CPF involved in fraud less than 1 month ago",
    "type": "Negative",
    "category": "Fraud",
    "relevance": "High",
    "relatedTo": ["Document"],
}
_TOKEN = {"status": "Waiting", "createdAt": STAMP}


def _transaction(request_body: Any = None) -> dict[str, Any]:
    """PDT echoes the request's fields back, plus its own id and timestamps."""
    echoed = request_body if isinstance(request_body, dict) else {"documentType": "CPF"}
    return {
        "document": "12345678909",
        **echoed,
        "id": PDT_TRANSACTION_ID,
        "createdAt": STAMP,
        "referenceDate": STAMP,
    }


_MODULES = {"scores": [_SCORE], "ratings": [_RATING], "insights": [_INSIGHT]}
_PDT_PATH = re.compile(
    r"^/v1/(?:(?P<auth>authentication)|(?P<create>transaction)|packs/(?P<pack>[^/]+)"
    r"|transaction/[^/]+/(?:(?P<all>all)|(?P<module>scores|ratings|insights)"
    r"|(?P<channel>sms|emails)/tokens(?P<validate>/validate)?))$"
)


def _pdt_call(path: str) -> str:
    """The PDT client's own name for the call (``PdtClient`` uses the same names)."""
    found = _PDT_PATH.match(path)
    if found is None:
        return "unknown"
    if found["auth"]:
        return "authentication"
    if found["create"]:
        return "transaction"
    if found["pack"]:
        return "pack"
    if found["all"]:
        return "all"
    if found["module"]:
        return found["module"]
    channel = "sms" if found["channel"] == "sms" else "email"
    return f"{channel}_token_validate" if found["validate"] else f"{channel}_token"


def _pdt_answer(call: str, request: httpx.Request) -> Canned:
    if call == "authentication":
        return Canned(200, {"token": "pdt-token", "expiresInSeconds": 3600})
    if call == "transaction":
        return Canned(201, _transaction(orjson.loads(request.content)))
    if call in _MODULES:
        return Canned(201, _MODULES[call])
    if call == "pack":
        transaction = _transaction(orjson.loads(request.content))
        modules = {
            singular: {"results": _MODULES[plural], "moduleStatus": "completed"}
            for singular, plural in (("score", "scores"), ("rating", "ratings"), ("insight", "insights"))
        }
        return Canned(201, {"createdAt": STAMP, "status": "completed", "transaction": transaction, **modules})
    if call == "all":
        return Canned(200, {"transaction": _transaction(), **_MODULES, "smsTokens": [_TOKEN]})
    if call.endswith("_validate"):
        kind = "Sms" if call.startswith("sms") else "Email"
        return Canned(200, {"status": "Valid", "type": kind, "createdAt": STAMP})
    if call.endswith("_token"):
        return Canned(201, _TOKEN)
    return Canned(404, {"message": "no such route"})


def _legacy_call(path: str) -> str:
    # Data Trust v1 logs in at …/authentication, the v1 family at …/authenticate.
    return "authentication" if path.endswith(("/authentication", "/authenticate")) else "forward"


def _legacy_answer(call: str, path: str) -> Canned:
    if call == "forward":
        return Canned(200, LEGACY_ANSWER)
    if path.endswith("/authentication"):
        return Canned(200, {"token": "legacy-token", "expiresInSeconds": 3600})
    # The v1 family's expiry: Brasília wall-clock time, no offset, in the future.
    expiry = datetime.now(ZoneInfo("America/Sao_Paulo")) + timedelta(hours=1)
    return Canned(200, {"Token": "legacy-token", "ExpirationDate": expiry.strftime("%Y-%m-%dT%H:%M:%S")})


# What "missing field" removes from each call's answer: a field PDT's schema (or the
# legacy login) requires and without which no legacy answer can be built.
MISSING_FIELD: dict[tuple[Upstream, str], str] = {
    ("pdt", "authentication"): "token",
    ("pdt", "transaction"): "id",
    ("pdt", "scores"): "value",
    ("pdt", "ratings"): "value",
    ("pdt", "insights"): "code",
    ("pdt", "pack"): "transaction",
    ("pdt", "all"): "transaction",
    ("pdt", "sms_token"): "status",
    ("pdt", "email_token"): "status",
    ("pdt", "sms_token_validate"): "status",
    ("pdt", "email_token_validate"): "status",
    ("legacy", "forward"): "ok",
}


def _missing_field_of(upstream: Upstream, call: str, path: str) -> str:
    if (upstream, call) == ("legacy", "authentication"):
        return "token" if path.endswith("/authentication") else "Token"
    return MISSING_FIELD[(upstream, call)]


# --- faults ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Injection:
    """What a fault gets to work with: the request, its healthy answer, the double."""

    request: httpx.Request
    healthy: Canned
    missing_field: str
    upstream: FaultyUpstream


Inject = Callable[[Injection], Awaitable[httpx.Response]]
# The proxy error kind (``proxy.errors``) a fault must end in; None: tolerated, the
# call succeeds; "passthrough": the legacy backend's HTTP answer is the legacy answer.
Expected = str | None


@dataclass(frozen=True, slots=True)
class Fault:
    id: str
    inject: Inject
    # When the proxy reads the answer (every PDT call, the legacy login).
    parsed: Expected
    # When the proxy forwards it untouched (the legacy stage's forwarded call).
    forwarded: Expected
    # A connection that failed before the request was written: the upstream never
    # saw it, so even a POST may be sent again.
    unsent: bool = False


def _raise(error: type[httpx.TransportError], message: str) -> Inject:
    async def inject(at: Injection) -> httpx.Response:
        # The message is what a careless translation would leak: it carries the marker.
        raise error(f"{message} {MARKER}", request=at.request)

    return inject


def _status(status: int, headers: dict[str, str] | None = None) -> Inject:
    async def inject(at: Injection) -> httpx.Response:
        return httpx.Response(
            status, headers={"content-type": "application/json", **(headers or {})}, json=_LEAKY
        )

    return inject


def _raw(content: bytes, content_type: str) -> Inject:
    async def inject(at: Injection) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=content)

    return inject


def _reshaped(change: Callable[[dict[str, Any], str], None]) -> Inject:
    """The healthy answer with every object at its top (or in its top list) changed."""

    async def inject(at: Injection) -> httpx.Response:
        value = orjson.loads(at.healthy.content)
        for item in value if isinstance(value, list) else [value]:
            change(item, at.missing_field)
        return httpx.Response(at.healthy.status, headers={"content-type": _JSON}, content=orjson.dumps(value))

    return inject


def _drop(item: dict[str, Any], name: str) -> None:
    item.pop(name, None)


def _add(item: dict[str, Any], name: str) -> None:
    item["unexpectedAddedByUpstream"] = {"note": MARKER, "nested": [1, 2, 3]}


class _Stream(httpx.AsyncByteStream):
    """A body produced chunk by chunk, counting what the reader actually pulled."""

    def __init__(
        self, upstream: FaultyUpstream, chunks: Callable[[], AsyncIterator[bytes]], *, cut: bool = False
    ) -> None:
        self._upstream = upstream
        self._chunks = chunks
        self._cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks():
            self._upstream.pulled += len(chunk)
            yield chunk
        if self._cut:
            # What httpx (and the aiohttp transport) raise when the peer closes mid-body.
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def _hang(at: Injection) -> httpx.Response:
    # Never answers: only the proxy's own timeouts end this call.
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def _truncated() -> Inject:
    async def inject(at: Injection) -> httpx.Response:
        # The marker first, so that even the half that arrives carries it.
        whole = b'{"note": "' + MARKER.encode() + b'", "answer": ' + at.healthy.content + b"}"

        async def chunks() -> AsyncIterator[bytes]:
            yield whole[: len(whole) // 2]

        # Content-Length promises the whole body; half of it arrives.
        headers = {"content-type": _JSON, "content-length": str(len(whole))}
        return httpx.Response(200, headers=headers, stream=_Stream(at.upstream, chunks, cut=True))

    return inject


def _huge(*, declared: bool) -> Inject:
    """A 10 MB JSON answer, produced lazily: the test sees how much of it was read."""

    async def inject(at: Injection) -> httpx.Response:
        filler = (f'"{MARKER}",'.encode() * (CHUNK // (len(MARKER) + 3) + 1))[:CHUNK]

        async def chunks() -> AsyncIterator[bytes]:
            yield b"["
            for _ in range(TEN_MB // CHUNK):
                yield filler

        headers = {"content-type": _JSON}
        if declared:
            headers["content-length"] = str(TEN_MB + 1)
        return httpx.Response(200, headers=headers, stream=_Stream(at.upstream, chunks))

    return inject


_TIMEOUT, _UNAVAILABLE, _MALFORMED = "upstream_timeout", "upstream_unavailable", "upstream_malformed"
PASSTHROUGH = "passthrough"

# Only with lowered timeouts (it waits for them for real): a table of its own.
HANG = Fault("hang", _hang, _TIMEOUT, _TIMEOUT)

FAULTS: tuple[Fault, ...] = (
    Fault(
        "connect-timeout", _raise(httpx.ConnectTimeout, "connect timed out"), _TIMEOUT, _TIMEOUT, unsent=True
    ),
    Fault("read-timeout", _raise(httpx.ReadTimeout, "read timed out"), _TIMEOUT, _TIMEOUT),
    Fault("reset", _raise(httpx.ReadError, "connection reset by peer"), _UNAVAILABLE, _UNAVAILABLE),
    Fault("status-500", _status(500), _UNAVAILABLE, _UNAVAILABLE),
    Fault("status-502", _status(502), _UNAVAILABLE, _UNAVAILABLE),
    Fault("status-503", _status(503), _UNAVAILABLE, _UNAVAILABLE),
    Fault("status-504", _status(504), _UNAVAILABLE, _TIMEOUT),
    # Longer than any legacy client waits: answered at once, never slept on.
    Fault("status-429-retry-after", _status(429, {"retry-after": "120"}), _UNAVAILABLE, PASSTHROUGH),
    Fault(
        "malformed-json",
        _raw(b'{"token": "' + MARKER.encode() + b'", "expiresInSeconds": 3600, "id": ', _JSON),
        _MALFORMED,
        PASSTHROUGH,
    ),
    # A gateway's HTML page answered with 200: not JSON, whatever the status says.
    Fault(
        "wrong-content-type",
        _raw(f"<html><body><h1>Bad gateway</h1><pre>{MARKER}</pre></body></html>".encode(), "text/html"),
        _MALFORMED,
        PASSTHROUGH,
    ),
    Fault("truncated-body", _truncated(), _UNAVAILABLE, _UNAVAILABLE),
    Fault("missing-field", _reshaped(_drop), _MALFORMED, PASSTHROUGH),
    Fault("extra-field", _reshaped(_add), None, PASSTHROUGH),
    Fault("body-10mb", _huge(declared=False), _MALFORMED, _MALFORMED),
    Fault("body-10mb-declared", _huge(declared=True), _MALFORMED, _MALFORMED),
)


# --- the transport -------------------------------------------------------------------


@dataclass
class FaultyUpstream(httpx.AsyncBaseTransport):
    """Both upstreams of the proxy; ``arm`` breaks one call (every attempt of it)."""

    sent: list[Sent] = field(default_factory=list)
    # Bytes of streamed fault bodies the proxy actually pulled.
    pulled: int = 0
    # Every answer a fault gave, in order.
    injected: list[Injected] = field(default_factory=list)
    _armed: tuple[Upstream, str, Fault] | None = field(default=None, init=False)

    def arm(self, upstream: Upstream, call: str, fault: Fault) -> None:
        self._armed = (upstream, call, fault)

    def calls(self, upstream: Upstream, call: str) -> list[Sent]:
        return [sent for sent in self.sent if (sent.upstream, sent.call) == (upstream, call)]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        upstream: Upstream
        if request.url.host == PDT_HOST:
            upstream, call = "pdt", _pdt_call(path)
            healthy = _pdt_answer(call, request)
        elif request.url.host == LEGACY_HOST:
            upstream, call = "legacy", _legacy_call(path)
            healthy = _legacy_answer(call, path)
        else:
            raise httpx.ConnectError("not an upstream of this test", request=request)
        self.sent.append(Sent(upstream, call, request.method, path))
        if self._armed is not None and self._armed[:2] == (upstream, call):
            fault = self._armed[2]
            response = await fault.inject(
                Injection(request, healthy, _missing_field_of(upstream, call, path), self)
            )
            # Streamed bodies are never complete answers: only whole ones can be passed on.
            whole = response.content if isinstance(response.stream, httpx.ByteStream) else None
            self.injected.append(Injected(response.status_code, response.headers.get("content-type"), whole))
            return response
        return httpx.Response(healthy.status, headers={"content-type": _JSON}, content=healthy.content)


# --- a real socket ----------------------------------------------------------------------


class HugeAnswerServer:
    """A PDT on 127.0.0.1 that logs anyone in and answers every other call with a 10 MB
    chunked body (no Content-Length), for the pooled aiohttp transport's own cap."""

    def __init__(self) -> None:
        self._handlers: set[asyncio.Task[None]] = set()
        self.paths: list[str] = []
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> HugeAnswerServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        # A safety net, not a timing assertion: a handler still writing is dropped.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await asyncio.gather(*self._handlers, return_exceptions=True)
        for handler in self._handlers:
            handler.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        current = asyncio.current_task()
        assert current is not None
        self._handlers.add(current)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                path = request_line.split(" ")[1]
                self.paths.append(path)
                length = next(
                    (
                        int(line.split(":", 1)[1])
                        for line in lines
                        if line.lower().startswith("content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if path == "/v1/authentication":
                    body = orjson.dumps({"token": "wire-token", "expiresInSeconds": 3600})
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    await writer.drain()
                    continue
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                chunk = (f'"{MARKER}",'.encode() * (CHUNK // (len(MARKER) + 3) + 1))[:CHUNK]
                for _ in range(TEN_MB // CHUNK):
                    writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            return  # the proxy hung up mid-body, as it should
        finally:
            writer.close()


class MeasuringTransport:
    """Records how many body bytes each answer held when the inner transport returned it."""

    def __init__(self, inner: UpstreamTransport) -> None:
        self._inner = inner
        self.buffered: list[int] = []

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, limits: SendLimits
    ) -> UpstreamAnswer:
        answer = await self._inner.send(method, url, headers, body, limits)
        # Every transport reads the body before returning: this is all of it.
        self.buffered.append(len(answer.body))
        return answer

    async def aclose(self) -> None:
        await self._inner.aclose()
