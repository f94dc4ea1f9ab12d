"""The sample corpus: synthetic traffic over all three products, answered by the legacy
simulator (no disagreement), written in the corpus format. ``scripts/make-sample-corpus``
and ``pdt-proxy record sample`` call ``write_sample_corpus``.

The people are synthetic (CPFs with valid check digits made from a counter), and
each request is pseudonymised with the sample key *before* it is sent, so the
recorded legacy answer is the answer about the pseudonymous person the corpus
holds. That is what makes the sample replayable to a pass against the built-in
PDT simulator, which derives its answers from the request just as the legacy
simulator does. (A corpus recorded from real traffic pseudonymises after the fact:
see docs/replay.md for what that means for its comparisons.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from proxy.config import Environment, TimeoutSettings
from proxy.deadline import Deadline
from proxy.mapping.catalog import Product, load_catalog
from proxy.privacy import cpf_check_digits, pseudonymise_mapping, secret_fields
from proxy.replay.targets import decode_json
from proxy.simulators.legacy import (
    DEMO_ACCOUNTS,
    DEMO_GRANTS,
    LegacySimulatorSettings,
    create_legacy_simulator,
)
from proxy.simulators.otp import token_code
from proxy.state.corpus import CorpusEntry, Method, RecordedBody, entry_to_line
from proxy.upstream.legacy import LegacyCall, LegacyClient, LegacyCredential, LegacyLogin

__all__ = ["SAMPLE_KEY", "sample_corpus_lines", "sample_requests", "write_sample_corpus"]

SAMPLE_KEY = b"pdt-proxy/replay/sample-corpus/v1"
_START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_JSON = "application/json"
_TENANTS = {"datatrust-v1": "demo-dt", "ffr": "demo-ffr", "mobile-trust": "demo-mt"}
_CODE = "{code}"  # the 2FA code the legacy simulator sent, filled in when the request goes out
_FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gisele", "Heitor")


@dataclass(frozen=True)
class SampleRequest:
    product: str
    operation: str
    environment: Environment
    method: Method
    route: str  # after the environment prefix; "{id}" = the id of the previous create
    body: dict[str, Any] | None


def _cpf(n: int) -> str:
    base = f"{(123_456_789 + n * 7_919_033) % 1_000_000_000:09d}"
    return base + cpf_check_digits(base)


def _person(n: int) -> dict[str, str]:
    name = _FIRST_NAMES[n % len(_FIRST_NAMES)]
    return {
        "cpf": _cpf(n),
        "name": f"{name} Exemplo {n}",
        "email": f"{name.lower()}.{n}@exemplo.com.br",
        "ddd": f"{11 + n % 9}",
        "mobile": f"9{6 + n % 4}{(1_000_000 + n * 104_729) % 10_000_000:07d}",
        "zip": f"{(1_000_000 + n * 7_717) % 100_000_000:08d}",
    }


def _datatrust(n: int) -> Iterator[SampleRequest]:
    p = _person(n)
    environment: Environment = "hml" if n % 4 == 3 else "prd"
    body: dict[str, Any] = {"IdentifierId": f"pedido-{1000 + n}", "Document": p["cpf"]}
    if n % 3 != 0:
        body["Email"] = p["email"]
    if n % 2 == 0:
        body["Phone"] = {"AreaCode": p["ddd"], "Number": p["mobile"]}
    if n % 5 != 1:
        body["ZipCode"] = f"{p['zip'][:5]}-{p['zip'][5:]}"
    if n % 2 == 1:
        body["Document"] = f"{p['cpf'][:3]}.{p['cpf'][3:6]}.{p['cpf'][6:9]}-{p['cpf'][9:]}"
    yield SampleRequest(
        "datatrust-v1", "datatrust.transaction.create", environment, "POST", "/datatrust", body
    )
    if n % 4 == 0:
        sms = {"Channel": "Sms"}
        yield SampleRequest(
            "datatrust-v1", "datatrust.token.send", environment, "POST", "/datatrust/{id}/token", sms
        )
    if n == 0:
        # Recorded with its code zeroed (a secret) and so marked not replayable.
        validate = {"Channel": "Sms", "Value": _CODE}
        yield SampleRequest("datatrust-v1", "datatrust.token.validate", environment, "POST",
                            "/datatrust/{id}/token/validate", validate)  # fmt: skip
    if n % 2 == 0:
        yield SampleRequest(
            "datatrust-v1", "datatrust.transaction.get", environment, "GET", "/datatrust/{id}", None
        )


def _ffr(n: int) -> Iterator[SampleRequest]:
    p = _person(n)
    phones = [{"TypeID": 2 if n % 3 == 0 else 1, "DDI": "55", "DDD": p["ddd"], "Number": p["mobile"]}]
    if n % 3 == 0:
        phones.append({"TypeID": 1, "DDI": "55", "DDD": p["ddd"], "Number": f"3{p['mobile'][1:8]}"})
    body: dict[str, Any] = {
        "OrderID": f"FINTECH_{20261100 + n}",
        "OrderDate": f"2026-11-{10 + n % 18:02d}T1{n % 10}:20:24",
        "SessionID": f"{0xCD161347AF40806C + n:x}",
        "Cpf": p["cpf"],
        "Name": p["name"],
        "ValidatedTokenEmail": n % 2,
        "ValidatedTokenSMS": (n + 1) % 2,
        "Phones": phones,
    }
    if n % 4 != 2:
        body["Email"] = p["email"]
    if n % 2 == 0:
        body["Addresses"] = [
            {"Street": "Rua das Flores", "Number": str(100 + n), "City": "São Paulo", "State": "SP",
             "Country": "Brasil", "ZipCode": p["zip"], "TypeID": 1}
        ]  # fmt: skip
    yield SampleRequest(
        "ffr", "ffr.score", "hml" if n % 5 == 4 else "prd", "POST", "/fintech/fraud/score", body
    )


def _mobile_trust(n: int) -> Iterator[SampleRequest]:
    p = _person(n)
    body: dict[str, Any] = {
        "Document": p["cpf"],
        "DocumentType": "CPF",
        "AreaCode": p["ddd"],
        "Phone": p["mobile"],
        "BlockSmsSending": n % 2 == 0,
        "Email": p["email"],
        "AdditionalInformation": {"Transaction": f"{900_000 + n}", "CustomerName": p["name"]},
    }
    if n % 3 != 2:
        body["ZipCode"] = p["zip"]
    environment: Environment = "hml" if n % 4 == 1 else "prd"
    yield SampleRequest("mobile-trust", "mobiletrust.transaction.create", environment, "POST",
                        "/mobiletrust/transaction", body)  # fmt: skip
    if n % 2 == 1:
        yield SampleRequest("mobile-trust", "mobiletrust.transaction.get", environment, "GET",
                            "/mobiletrust/transaction/{id}", None)  # fmt: skip


def sample_requests(people: int = 12) -> list[SampleRequest]:
    """The synthetic requests, in order: per person a Data Trust, an FFR and a Mobile Trust call."""
    requests: list[SampleRequest] = []
    for n in range(people):
        requests += [*_datatrust(n), *_ffr(100 + n), *_mobile_trust(200 + n)]
    return requests


def _with_code(masked: Any, original: dict[str, Any] | None, transaction_id: str | None) -> Any:
    """The request as sent: the real code where the recorded one is zeroed."""
    if original is None or original.get("Value") != _CODE or transaction_id is None:
        return masked
    return {**masked, "Value": token_code(transaction_id, str(original["Channel"]))}


def _id_of(answer: Any) -> str | None:
    if isinstance(answer, dict):
        for name in ("transactionId", "TransactionID"):
            if isinstance(answer.get(name), str):
                return str(answer[name])
    return None


class _Caller:
    """The demo tenants' logins on the legacy simulator, through the proxy's own legacy client."""

    def __init__(self, transport: httpx.AsyncBaseTransport, clock: Callable[[], float]) -> None:
        base = "http://legacy.simulator"
        self.client = LegacyClient(transport, {"prd": base, "hml": base}, TimeoutSettings(), wall_clock=clock)

    async def send(
        self, product: Product, environment: Environment, method: str, path: str, body: bytes
    ) -> tuple[int, str | None, bytes]:
        spec = product.authentication.spec
        login_path = product.spec.prefixes[environment] + spec.path
        username = _TENANTS[product.name]
        credential = LegacyCredential(environment, login_path, username, DEMO_ACCOUNTS[username])
        call = LegacyCall(credential, LegacyLogin(login_path, spec), Deadline(30.0), None)
        answer = await self.client.forward(
            call, method, path, body=body, content_type=_JSON if method == "POST" else None
        )
        return answer.status, answer.content_type, answer.body


async def sample_corpus_lines(mappings_dir: Path, *, people: int = 12) -> list[bytes]:
    """The sample corpus, line by line (the legacy simulator runs on a fixed clock)."""
    catalog = load_catalog(mappings_dir)
    moment = [_START]

    def clock() -> float:
        return moment[0].timestamp()

    app = create_legacy_simulator(
        LegacySimulatorSettings(disagreement_rate=0),
        catalog=catalog,
        accounts=DEMO_ACCOUNTS,
        grants=DEMO_GRANTS,
        clock=clock,
    )
    caller = _Caller(httpx.ASGITransport(app=app), clock)
    lines: list[bytes] = []
    last_id: dict[str, str] = {}
    try:
        for request in sample_requests(people):
            product = catalog.products[request.product]
            prefix = product.spec.prefixes[request.environment]
            route = request.route
            if "{id}" in route:
                route = route.replace("{id}", last_id[request.product])
            transaction_id = last_id.get(request.product)
            actual = _with_code(request.body, request.body, transaction_id)
            masked = pseudonymise_mapping(actual, key=SAMPLE_KEY) if actual is not None else None
            sent = RecordedBody(data=_with_code(masked, request.body, transaction_id))
            status, content_type, answer = await caller.send(
                product, request.environment, request.method, prefix + route, sent.to_bytes()
            )
            body = RecordedBody(data=masked)
            decoded = decode_json(answer)
            if not 200 <= status < 300:
                # Synthetic traffic the legacy simulator refuses is a bug in this generator.
                raise RuntimeError(f"{request.operation} at {prefix + route}: {status} {answer[:200]!r}")
            created = _id_of(decoded)
            if request.method == "POST" and created is not None:
                last_id[request.product] = created
            lines.append(
                entry_to_line(
                    CorpusEntry(
                        time=moment[0],
                        environment=request.environment,
                        tenant=_TENANTS[request.product],
                        product=request.product,
                        operation=request.operation,
                        method=request.method,
                        path=prefix + route,
                        request_body=body,
                        replayable=not secret_fields(actual),
                        status=status,
                        response_body=RecordedBody(data=decoded),
                        request_content_type=_JSON if request.method == "POST" else None,
                        response_content_type=content_type,
                    )
                )
            )
            moment[0] += timedelta(seconds=7)
    finally:
        await caller.client.aclose()
    return lines


def write_sample_corpus(out: Path, *, mappings_dir: Path, people: int = 12) -> int:
    """Write the sample corpus to ``out``; returns the number of exchanges written."""
    lines = asyncio.run(sample_corpus_lines(mappings_dir, people=people))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(lines))
    return len(lines)
