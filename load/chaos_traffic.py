"""A chaos run's legacy traffic: what the clients send, and the judge of what comes back.

**The judge** reads ``mappings/``. A 2xx must carry the operation's declared
success status and validate against its legacy response schema (a login's answer
against the product's authentication schema). Any other status must be one the
product family's error table (``errors.yaml``) declares, with a body shaped like one
of that status's templates. The tables are read at run time, not copied here, so
error kinds added later (``rate_limited``, ``overloaded``) are accepted as soon as
their entries exist. Every answer must also be JSON and free of stack traces and of
the simulators' injected-fault marker.

**The clients** are closed loops, one legacy integration each (one product, one
tenant, so one stage): log in on each environment the way the product's clients
did, then send that product's calls back to back with fresh, valid people (CPFs
with correct check digits), reading back transactions they created, plus a few
requests that must be refused (a CPF with a wrong check digit, an unknown id).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp
import orjson

from proxy.mapping.catalog import MappingCatalog, load_catalog
from proxy.mapping.examples import load_example
from proxy.mapping.schemas import CompiledSchema
from proxy.simulators.middleware import FAULT_MARKER

__all__ = [
    "AUTHENTICATION",
    "PRODUCTS",
    "STAGES",
    "Client",
    "Exchange",
    "Judge",
    "Verdict",
    "cpf",
    "drive",
    "template_matches",
]

PRODUCTS: Final = ("datatrust-v1", "ffr", "mobile-trust")
STAGES: Final = ("pdt", "pdt-fallback", "legacy", "shadow")

# The operation name of a product's login, beside its routes' ``METHOD /path`` names.
AUTHENTICATION: Final = "authentication"
# What a Python, ASP.NET or uvicorn stack trace prints; none belongs in an answer.
_TRACE: Final = re.compile(rb'Traceback \(most recent call last\)|File "[^"]+", line \d+|\n\s+at [\w.]+\(')
_PLACEHOLDER: Final = re.compile(r"\{[a-z_]+\}")
_ERRORS_PLACEHOLDER: Final = "{errors}"


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Success:
    status: int
    schema: CompiledSchema


def _string_matches(template: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if not _PLACEHOLDER.search(template):
        return value == template
    # "{trace_id}" and any placeholder a later table adds stand for some text.
    pieces = _PLACEHOLDER.split(template)
    return re.fullmatch(".*".join(re.escape(piece) for piece in pieces), value, re.DOTALL) is not None


def _field_errors(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in value.values()
    )


def template_matches(template: Any, value: Any) -> bool:
    """Whether ``value`` is a body the error template can render (same keys, same literals)."""
    if template == _ERRORS_PLACEHOLDER:
        return _field_errors(value)
    if isinstance(template, str):
        return _string_matches(template, value)
    if isinstance(template, dict):
        return (
            isinstance(value, dict)
            and value.keys() == template.keys()
            and all(template_matches(template[key], value[key]) for key in template)
        )
    if isinstance(template, list):
        return (
            isinstance(value, list)
            and len(value) == len(template)
            and all(template_matches(t, v) for t, v in zip(template, value, strict=True))
        )
    return bool(template == value) and type(template) is type(value)


class Judge:
    """Checks one answer of one product's operation against the mappings."""

    def __init__(self, catalog: MappingCatalog) -> None:
        self._success: dict[tuple[str, str], _Success] = {}
        self._errors: dict[str, dict[int, list[Any]]] = {}
        self.prefixes: dict[tuple[str, str], str] = {}
        for name, product in catalog.products.items():
            for environment, prefix in product.spec.prefixes.items():
                self.prefixes[(name, environment)] = prefix
            auth = product.authentication
            self._success[(name, AUTHENTICATION)] = _Success(200, auth.response_schema)
            for route in product.routes:
                operation = route.operation
                key = (name, f"{route.spec.method} {route.spec.path}")
                self._success[key] = _Success(operation.spec.response.status, operation.legacy_response)
            by_status: dict[int, list[Any]] = {}
            for status, template in product.errors.entries.values():
                by_status.setdefault(status, []).append(template)
            self._errors[name] = by_status

    @classmethod
    def from_directory(cls, mappings: Path) -> Judge:
        return cls(load_catalog(mappings))

    def error_statuses(self, product: str) -> frozenset[int]:
        return frozenset(self._errors[product])

    def check(
        self, product: str, operation: str, status: int, content_type: str | None, body: bytes
    ) -> Verdict:
        problems: list[str] = []
        if FAULT_MARKER.encode() in body:
            problems.append("carries a simulator's injected-fault body")
        if _TRACE.search(body):
            problems.append("carries a stack trace")
        if not (content_type or "").lower().startswith("application/json"):
            problems.append(f"content type {content_type!r}, not application/json")
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            problems.append("body is not JSON")
            return Verdict(tuple(problems))
        if 200 <= status < 300:
            problems.extend(self._check_success(product, operation, status, document))
        else:
            problems.extend(self._check_error(product, status, document))
        return Verdict(tuple(problems))

    def _check_success(self, product: str, operation: str, status: int, document: Any) -> list[str]:
        success = self._success[(product, operation)]
        if status != success.status:
            return [f"success status {status}, the operation declares {success.status}"]
        if success.schema.is_valid(document):
            return []
        fields = sorted({f"{v.field} ({v.keyword})" for v in success.schema.violations(document)})
        return [f"fails {Path(success.schema.source).name}: {', '.join(fields)}"]

    def _check_error(self, product: str, status: int, document: Any) -> list[str]:
        templates = self._errors[product].get(status)
        if templates is None:
            return [f"status {status} has no entry in the {product} error table"]
        if any(template_matches(template, document) for template in templates):
            return []
        return [f"{status} body matches none of the error table's {status} bodies"]


# -- the clients ------------------------------------------------------------------------------


# A CPF's check digit: modulo 11 of the digits weighted from len+1 down to 2.
def _check_digit(digits: list[int]) -> int:
    weighted = sum(
        digit * weight for digit, weight in zip(digits, range(len(digits) + 1, 1, -1), strict=True)
    )
    rest = weighted * 10 % 11
    return 0 if rest == 10 else rest


def cpf(rng: random.Random) -> str:
    """Eleven digits with correct check digits, never one digit repeated (those are invalid)."""
    digits = [rng.randrange(10) for _ in range(9)]
    if len(set(digits)) == 1:
        digits[0] = (digits[0] + 1) % 10
    digits.append(_check_digit(digits))
    digits.append(_check_digit(digits))
    return "".join(map(str, digits))


def _wrong_check_digit(valid: str) -> str:
    return valid[:-1] + str((int(valid[-1]) + 1) % 10)


_FFR_EXAMPLE: Final = load_example("ffr", "score.request")
_MT_EXAMPLE: Final = load_example("mobile-trust", "transaction.request")
# Recent ids a client reads back; older ones may have left the simulators' stores.
_REMEMBERED: Final = 32
# Longer than the proxy's request deadline plus a held answer: a client timeout
# means the proxy never answered, which is a finding, not noise.
CLIENT_TIMEOUT_S: Final = 20.0


@dataclass
class Client:
    """One legacy integration: a product, its tenant's stage, its login and memory."""

    product: str
    stage: str
    username: str = ""
    password: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, deque[str]] = field(default_factory=dict)

    @property
    def family_v1(self) -> bool:
        return self.product != "datatrust-v1"


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (``status`` None: no answer, ``failure`` says why)."""

    product: str
    stage: str
    operation: str
    method: str
    path: str
    request_body: bytes
    status: int | None
    content_type: str | None
    body: bytes
    failure: str | None = None


@dataclass(frozen=True)
class _Call:
    operation: str
    method: str
    path: str
    body: bytes = b""
    form: bool = False


def _dt_call(client: Client, prefix: str, ids: deque[str], rng: random.Random) -> _Call:
    roll = rng.random()
    if ids and roll < 0.20:
        return _Call("GET /datatrust/{transactionId}", "GET", f"{prefix}/datatrust/{rng.choice(ids)}")
    if ids and roll < 0.30:
        channel = rng.choice(("Sms", "Email"))
        path = f"{prefix}/datatrust/{rng.choice(ids)}/token"
        return _Call(
            "POST /datatrust/{transactionId}/token", "POST", path, orjson.dumps({"Channel": channel})
        )
    if ids and roll < 0.35:
        body = orjson.dumps({"Channel": "Sms", "Value": "000000"})
        path = f"{prefix}/datatrust/{rng.choice(ids)}/token/validate"
        return _Call("POST /datatrust/{transactionId}/token/validate", "POST", path, body)
    if roll < 0.38:
        return _Call("GET /datatrust/{transactionId}", "GET", f"{prefix}/datatrust/{uuid.uuid4()}")
    document = cpf(rng)
    if roll < 0.42:
        document = _wrong_check_digit(document)
    person = {
        "IdentifierId": f"chaos-{rng.randrange(10**9)}",
        "Document": f"{document[:3]}.{document[3:6]}.{document[6:9]}-{document[9:]}",
        "Email": f"p{rng.randrange(10**9)}@example.com",
        "Phone": {"AreaCode": "11", "Number": f"9{rng.randrange(10**7, 10**8)}"},
        "ZipCode": "06454-050",
    }
    return _Call("POST /datatrust", "POST", f"{prefix}/datatrust", orjson.dumps(person))


def _ffr_call(client: Client, prefix: str, ids: deque[str], rng: random.Random) -> _Call:
    document = cpf(rng)
    if rng.random() < 0.05:
        document = _wrong_check_digit(document)
    order = {**_FFR_EXAMPLE, "OrderID": f"CHAOS_{rng.randrange(10**9)}", "Cpf": document}
    order["Email"] = f"p{rng.randrange(10**9)}@example.com"
    return _Call("POST /fintech/fraud/score", "POST", f"{prefix}/fintech/fraud/score", orjson.dumps(order))


def _mt_call(client: Client, prefix: str, ids: deque[str], rng: random.Random) -> _Call:
    roll = rng.random()
    if ids and roll < 0.30:
        path = f"{prefix}/mobiletrust/transaction/{rng.choice(ids)}"
        return _Call("GET /mobiletrust/transaction/{TransactionID}", "GET", path)
    document = cpf(rng)
    if roll > 0.95:
        document = _wrong_check_digit(document)
    body = {**_MT_EXAMPLE, "Document": document, "BlockSmsSending": rng.random() < 0.5}
    return _Call(
        "POST /mobiletrust/transaction", "POST", f"{prefix}/mobiletrust/transaction", orjson.dumps(body)
    )


_CALLS: Final[dict[str, Callable[[Client, str, deque[str], random.Random], _Call]]] = {
    "datatrust-v1": _dt_call,
    "ffr": _ffr_call,
    "mobile-trust": _mt_call,
}
# Where each product's answer names the transaction a client may read back.
_ID_FIELDS: Final = {"datatrust-v1": "transactionId", "mobile-trust": "TransactionID"}


def _login_call(client: Client, prefix: str, rng: random.Random) -> _Call:
    if not client.family_v1:
        body = orjson.dumps({"Username": client.username, "Password": client.password})
        return _Call(AUTHENTICATION, "POST", f"{prefix}/authentication", body)
    # FFR and Mobile Trust clients sent a form or JSON; both are exercised.
    if rng.random() < 0.5:
        form = urlencode({"name": client.username, "password": client.password}).encode()
        return _Call(AUTHENTICATION, "POST", f"{prefix}/authenticate", form, form=True)
    body = orjson.dumps({"name": client.username, "password": client.password})
    return _Call(AUTHENTICATION, "POST", f"{prefix}/authenticate", body)


class _Driver:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        judge: Judge,
        sink: Callable[[Exchange], None],
        stop: float,
    ) -> None:
        self.session, self.base, self.judge, self.sink, self.stop = session, base, judge, sink, stop

    async def send(self, client: Client, call: _Call, token: str | None) -> Exchange:
        headers = {"Content-Type": "application/x-www-form-urlencoded" if call.form else "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self.session.request(
                call.method, self.base + call.path, data=call.body or None, headers=headers
            ) as answer:
                body = await answer.read()
                status, content_type = answer.status, answer.headers.get("Content-Type")
                failure = None
        except (aiohttp.ClientError, TimeoutError) as error:
            status, content_type, body, failure = None, None, b"", f"no answer: {error!r}"
        exchange = Exchange(
            client.product,
            client.stage,
            call.operation,
            call.method,
            call.path,
            call.body,
            status,
            content_type,
            body,
            failure,
        )
        self.sink(exchange)
        return exchange

    async def token(self, client: Client, environment: str, rng: random.Random) -> str | None:
        if environment in client.tokens:
            return client.tokens[environment]
        prefix = self.judge.prefixes[(client.product, environment)]
        exchange = await self.send(client, _login_call(client, prefix, rng), None)
        if exchange.status != 200:
            return None
        with_token: Any = _json(exchange.body)
        key = "Token" if client.family_v1 else "token"
        token = with_token.get(key) if isinstance(with_token, dict) else None
        if isinstance(token, str):
            client.tokens[environment] = token
        return client.tokens.get(environment)

    async def run(self, client: Client, rng: random.Random) -> None:
        while time.monotonic() < self.stop:
            # Most traffic is PRD; HML clients still test against the proxy.
            environment = "hml" if rng.random() < 0.2 else "prd"
            token = await self.token(client, environment, rng)
            if token is None:
                await asyncio.sleep(0.05)
                continue
            prefix = self.judge.prefixes[(client.product, environment)]
            ids = client.ids.setdefault(environment, deque(maxlen=_REMEMBERED))
            exchange = await self.send(client, _CALLS[client.product](client, prefix, ids, rng), token)
            if exchange.status == 401:
                client.tokens.pop(environment, None)
            id_field = _ID_FIELDS.get(client.product)
            if id_field and exchange.status in (200, 201) and exchange.method == "POST":
                created = _json(exchange.body)
                if isinstance(created, dict) and isinstance(created.get(id_field), str):
                    ids.append(created[id_field])


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


async def drive(
    base: str,
    judge: Judge,
    clients: list[Client],
    *,
    seconds: float,
    rng: random.Random,
    sink: Callable[[Exchange], None],
) -> None:
    """Run every client against ``base`` for ``seconds``; each exchange goes to ``sink``."""
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=len(clients) + 4)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        driver = _Driver(session, base, judge, sink, time.monotonic() + seconds)
        # One RNG per client, from the run's seed: a client's choices do not depend on
        # how the others' answers interleave.
        await asyncio.gather(*(driver.run(client, random.Random(rng.random())) for client in clients))
