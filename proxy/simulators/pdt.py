"""The built-in PDT simulator: a Starlette app that answers PDT's API as ``pdt.md`` describes it.

It is the upstream the proxy talks to when a PDT base URL is ``simulator`` (mounted in
process) and the upstream of the benchmarks, so it is plain Starlette with orjson and
adds nothing to a call unless latency or faults are configured. Answers come from
``proxy.simulators.profile``: the same person always gets the same score, ratings and
insights. Besides PDT's routes it serves one simulator-only route,
``GET /_simulator/tokens/{transactionId}/{sms|email}`` -> ``{"code": "123456"}``, the
one-time code the person would have received (same bearer token and ownership rules).

Choices where ``pdt.md`` is silent (all reconstructed):

- request bodies are bound as ASP.NET Core's web defaults bind them (member names in
  any case, unknown members ignored, numbers read from strings: ``binding``), then
  checked against ``mappings/pdt/schemas`` without the constraints the schemas mark
  ``x-reconstructed``; ``documentType`` and ``document`` are required; ``null``
  counts as absent;
- a module POST answers for the transaction as it stands now and replaces that module's
  earlier result (scores keep their ``PhoneChecked`` entries); ratings with no pair
  present answer 201 ``[]``;
- ``GET .../all`` leaves out the key of a module never requested, and lists the token
  sent on each channel under the channel's ``view_key`` with its current status;
- complements answer 200 with the updated transaction;
- token errors (no e-mail/phone to send to, validation before sending) are 400
  ProblemDetails; a wrong code leaves the token open until it expires.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from proxy.config import SimulatorSettings
from proxy.pdt_vocabulary import VOCABULARY_FILE, PdtVocabulary, load_vocabulary
from proxy.simulators.catalogue import load_catalogue
from proxy.simulators.middleware import FaultMix, JsonServerErrors, LatencyAndFaults
from proxy.simulators.otp import DEFAULT_CODE_TTL_S
from proxy.simulators.results import DEFAULT_PACKS, Module
from proxy.simulators.routes import simulator_routes
from proxy.simulators.sessions import Sessions
from proxy.simulators.state import PdtSimulator, Validators
from proxy.simulators.store import DEFAULT_MAX_TRANSACTIONS, TransactionStore
from proxy.simulators.validation import BodyValidator, read_schema
from proxy.simulators.wire import PdtAnswer, json_response, message_body, render_answer

__all__ = ["create_pdt_simulator"]


def create_pdt_simulator(
    settings: SimulatorSettings,
    *,
    catalogue_path: Path,
    accounts: Mapping[str, str],
    schemas_dir: Path | None = None,
    vocabulary: PdtVocabulary | None = None,
    max_transactions: int = DEFAULT_MAX_TRANSACTIONS,
    packs: Mapping[str, frozenset[Module]] = DEFAULT_PACKS,
    code_ttl_s: float = DEFAULT_CODE_TTL_S,
    seed: int | None = None,
    clock: Callable[[], float] = time.time,
    faults: FaultMix | None = None,
) -> Starlette:
    """Build a simulator app; its state (store, sessions, accounts) is ``app.state.simulator``.

    ``accounts`` maps PDT username to password; more can be added later with
    ``app.state.simulator.add_account``. ``schemas_dir`` defaults to the ``schemas``
    folder next to the catalogue, ``vocabulary`` (PDT's paths and names) to the
    ``vocabulary.yaml`` next to it. ``seed`` fixes the latency jitter and fault draws.
    ``faults`` picks what a faulted call gets (default: PDT's 503); with it, the
    fault counters are served at ``GET /_simulator/faults`` even at a zero fault rate.
    """
    schemas = schemas_dir if schemas_dir is not None else catalogue_path.parent / "schemas"
    if vocabulary is None:
        vocabulary = load_vocabulary(catalogue_path.parent / VOCABULARY_FILE)
    transaction_schema = read_schema(schemas, "transaction.request.json")
    # A complement is a partial transaction: the same fields, none of them required.
    complement_schema = {key: value for key, value in transaction_schema.items() if key != "required"}
    # Seeded on purpose: tests and benchmarks replay the same latency and faults.
    rng = random.Random(seed)  # noqa: S311
    simulator = PdtSimulator(
        settings=settings,
        catalogue=load_catalogue(catalogue_path),
        sessions=Sessions(accounts, ttl_s=settings.token_ttl_s, clock=clock),
        store=TransactionStore(max_transactions),
        validators=Validators(
            authentication=BodyValidator(read_schema(schemas, "authentication.request.json")),
            transaction=BodyValidator(transaction_schema),
            complements=BodyValidator(complement_schema),
            token_validation=BodyValidator(read_schema(schemas, "token-validate.request.json")),
        ),
        packs=packs,
        code_ttl_s=code_ttl_s,
        clock=clock,
        rng=rng,
    )
    middleware = [Middleware(JsonServerErrors)]
    if settings.latency_ms or settings.latency_jitter_ms or settings.fault_rate or faults is not None:
        middleware.append(
            Middleware(
                LatencyAndFaults,
                latency_ms=settings.latency_ms,
                jitter_ms=settings.latency_jitter_ms,
                fault_rate=settings.fault_rate,
                rng=rng,
                mix=faults,
            )
        )
    app = Starlette(
        routes=simulator_routes(simulator, vocabulary),
        middleware=middleware,
        exception_handlers={PdtAnswer: render_answer, HTTPException: _render_http_exception},
    )
    app.state.simulator = simulator
    return app


def _render_http_exception(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in PDT's JSON shape too."""
    assert isinstance(exc, HTTPException)
    return json_response(message_body(exc.detail), exc.status_code, exc.headers)
