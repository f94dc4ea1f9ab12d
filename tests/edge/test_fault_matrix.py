"""The fault matrix: every upstream call the proxy makes, broken every way, through the whole app.

Each case starts a fresh proxy (so no breaker, token cache or retry budget carries
over from another case) over ``tests.upstream.faults.FaultyUpstream``, breaks one
upstream call of one legacy operation (every attempt of it), sends that operation
once, and checks the answer the legacy client gets. The contract is the final
answer, not how many attempts it took, with one exception that is a contract of
its own: a POST that may have reached PDT (or the legacy backend) is sent once.

What the faults mean:

* ``connect-timeout``, ``read-timeout``: the transport raises httpx's timeouts
  (no real waiting). ``reset``: the connection fails mid-exchange (``ReadError``,
  what the aiohttp transport makes of a reset).
* ``status-5xx``, ``status-429-retry-after``: the upstream answers that status with
  an error body (``Retry-After: 120`` on the 429, longer than a legacy client waits).
  An upstream 429 is the upstream's outage, not the legacy client's rate: it is the
  family's ``upstream_unavailable`` (503), never the proxy's own ``rate_limited``.
* ``malformed-json``: a 200 whose body is cut-off JSON. ``wrong-content-type``: a
  200 HTML page (a gateway or captive portal answering for PDT): not JSON.
* ``truncated-body``: Content-Length promises more than arrives before the peer
  closes: a failed connection (503), not a malformed answer.
* ``missing-field``: the healthy answer without a field PDT's schema requires and
  the legacy answer cannot be built without (token, transaction id, a score's value,
  a token's status... see ``faults.MISSING_FIELD``): ``upstream_malformed`` (502).
* ``extra-field``: the healthy answer with an unknown field added (to each item of
  a list answer): tolerated, the call succeeds, and the unknown field's content
  (which holds the marker) does not reach the legacy answer.
* ``body-10mb``, ``body-10mb-declared``: a 10 MB 200 answer, streamed without
  Content-Length or announced by it: refused (502) after at most 1 MiB plus one
  chunk has been read, whatever the length says (every transport reads the same way).

Per stage:

* ``pdt``: every fault on every PDT call of every operation (Data Trust v1 create
  with modules and with a pack, get, token send and validate on both channels; FFR
  score; Mobile Trust create, with its SMS follow-up, and get). The answer is the
  family's error table entry (``mappings/<product>/errors.yaml``, looked up through
  the catalog, never written here) for the fault's error kind, or the operation's
  success, valid against the legacy contract.
* ``pdt-fallback``: every PDT call of every operation with one fault of each
  outcome (timeout, unavailable, unmappable, tolerated), and every fault on three
  calls (a creating POST, a GET, a follow-up POST on an existing transaction): the
  PDT side is the ``pdt`` stage's, checked fault by fault above. A failure is
  answered by the legacy backend, byte for byte, counted once with its cause; a
  tolerated fault stays on PDT and the legacy backend is not asked.
* ``legacy``: every fault on the tenant's legacy login (read by the proxy, so it
  fails like a PDT call) and on the forwarded call, for both logins (Data Trust
  v1's, the v1 family's) and both kinds of call (a POST, a GET). The forwarded
  call's 2xx-4xx answer, whatever its body, *is* the legacy answer (README: "byte
  for byte (status, content type, body)"): such faults are checked as passed
  through unchanged. A 5xx is the backend's failure page (it may hold a stack
  trace) and becomes the family's 503 (504 for a 504), like the faults that leave
  no answer at all (timeouts, resets, truncation, oversize).
* ``hang`` (its own small table): an upstream that never answers, ended by the
  proxy's lowered call timeout, for real; and a 10 MB answer over a real socket
  through the pooled aiohttp transport, which must stop reading at its cap.

Every case also checks: no 500 of the proxy's own; no marker (the string every
fault body and fault message carries) and no ``Traceback`` in the answer, except
in a legacy answer passed through by contract, nor in the captured log records
(before masking) or output; the broken call was really made; and no POST other
than a login was sent twice, unless its connection failed before it was sent.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Awaitable, Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jsonschema
import orjson
import pytest
import yaml

import proxy.live.config_set
from proxy.comparison.rules import load_compare_rules
from proxy.composition import create_app
from proxy.config import LegacySettings, PdtEnvironment, PdtSettings, TimeoutSettings, project_root
from proxy.ledger.factory import load_settings_pricing
from proxy.mapping.catalog import load_catalog
from proxy.mapping.examples import load_example
from proxy.runtime import Runtime
from proxy.tenants import hash_password, load_tenants
from proxy.upstream.transport import build_transport
from tests.conftest import make_settings
from tests.upstream.faults import (
    CHUNK,
    FAULTS,
    HANG,
    LEGACY_ANSWER,
    MARKER,
    MAX_BODY_BYTES,
    PASSTHROUGH,
    PDT_TRANSACTION_ID,
    Fault,
    FaultyUpstream,
    HugeAnswerServer,
    MeasuringTransport,
    Upstream,
)

MAPPINGS = project_root() / "mappings"
T = TypeVar("T")


def _once(load: Callable[..., T], key: Callable[..., Hashable]) -> Callable[..., T]:
    """``load`` computed once per ``key`` of its arguments."""
    done: dict[Hashable, T] = {}

    def cached(*args: Any, **kwargs: Any) -> T:
        found = key(*args, **kwargs)
        if found not in done:
            done[found] = load(*args, **kwargs)
        return done[found]

    return cached


# Parsing and compiling the mapping, pricing, comparison and tenant files is nearly
# all of an app's start-up (pure-Python YAML). What they produce is immutable, so
# every case shares it, and a fresh app per case stays affordable while every piece
# of mutable state (breakers, retry budgets, token caches, ledger, stages) is new.
_catalog = _once(load_catalog, lambda path: path)
_CACHED = {
    "load_catalog": _catalog,
    "load_settings_pricing": _once(
        load_settings_pricing,
        lambda settings: (settings.mappings_dir, settings.ledger.pricing_file),
    ),
    "load_compare_rules": _once(load_compare_rules, id),
    "load_tenants": _once(
        load_tenants,
        lambda path, *, known_products, simulator_only: (path, known_products, simulator_only),
    ),
}


@pytest.fixture(autouse=True)
def _loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, cached in _CACHED.items():
        monkeypatch.setattr(proxy.live.config_set, name, cached)


CATALOG = _catalog(MAPPINGS)
# Any argon2id hash: the tests mint legacy tokens instead of logging in.
_HASH = hash_password("fault-matrix-unused")


# --- the operations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    id: str
    product: str
    tenant: str
    method: str
    path: str
    body: Any
    # The PDT calls the operation makes, by the PDT client's names.
    calls: tuple[str, ...]
    status: int
    contract: str  # the legacy answer's schema, under mappings/

    @property
    def schema(self) -> jsonschema.Draft7Validator:
        return _validator(self.contract)


@functools.cache
def _validator(contract: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(orjson.loads((MAPPINGS / contract).read_bytes()))


DT_PERSON = {
    "IdentifierId": "pedido-123",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
DT_ANSWER = "datatrust-v1/contract/transaction.response.json"
TX = PDT_TRANSACTION_ID
MODULES = ("scores", "ratings", "insights")

OPERATIONS = (
    Operation(
        "dt-create",
        "datatrust-v1",
        "fm-dt",
        "POST",
        "/products/v1/datatrust",
        DT_PERSON,
        ("authentication", "transaction", *MODULES),
        200,
        DT_ANSWER,
    ),
    Operation(
        "dt-create-pack",
        "datatrust-v1",
        "fm-dt-pack",
        "POST",
        "/products/v1/datatrust",
        DT_PERSON,
        ("authentication", "pack"),
        200,
        DT_ANSWER,
    ),
    Operation(
        "dt-get",
        "datatrust-v1",
        "fm-dt",
        "GET",
        f"/products/v1/datatrust/{TX}",
        None,
        ("authentication", "all"),
        200,
        DT_ANSWER,
    ),
    *(
        Operation(
            f"dt-token-{channel}",
            "datatrust-v1",
            "fm-dt",
            "POST",
            f"/products/v1/datatrust/{TX}/token",
            {"Channel": channel.capitalize()},
            ("authentication", f"{channel}_token"),
            201,
            "datatrust-v1/contract/token.response.json",
        )
        for channel in ("sms", "email")
    ),
    *(
        Operation(
            f"dt-validate-{channel}",
            "datatrust-v1",
            "fm-dt",
            "POST",
            f"/products/v1/datatrust/{TX}/token/validate",
            {"Channel": channel.capitalize(), "Value": "123456"},
            ("authentication", f"{channel}_token_validate"),
            200,
            "datatrust-v1/contract/token-validate.response.json",
        )
        for channel in ("sms", "email")
    ),
    Operation(
        "ffr-score",
        "ffr",
        "fm-ffr",
        "POST",
        "/v1/fintech/fraud/score",
        load_example("ffr", "score.request"),
        ("authentication", "transaction", "scores", "insights"),
        200,
        "ffr/contract/score.response.json",
    ),
    Operation(
        "mt-create",
        "mobile-trust",
        "fm-mt",
        "POST",
        "/v1/mobiletrust/transaction",
        # The SMS goes out, so the follow-up token call is part of the matrix.
        {**load_example("mobile-trust", "transaction.request"), "BlockSmsSending": False},
        ("authentication", "transaction", "ratings", "insights", "sms_token"),
        200,
        "mobile-trust/contract/transaction.response.json",
    ),
    Operation(
        "mt-get",
        "mobile-trust",
        "fm-mt",
        "GET",
        f"/v1/mobiletrust/transaction/{TX}",
        None,
        ("authentication", "all"),
        200,
        "mobile-trust/contract/transaction.response.json",
    ),
)
# The legacy stage forwards every route alike: what differs is the login (Data Trust
# v1's or the v1 family's) and whether the call may be repeated (a GET) or not.
LEGACY_OPERATIONS = tuple(op for op in OPERATIONS if op.id in ("dt-create", "dt-get", "ffr-score", "mt-get"))

FALLBACK_CAUSES = {
    "upstream_timeout": "timeout",
    "upstream_unavailable": "unavailable",
    "upstream_malformed": "unmappable",
}


@pytest.fixture(scope="module")
def tenants_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("tenants")
    return {stage: _tenants_file(directory, stage) for stage in ("pdt", "pdt-fallback", "legacy")}


def _tenants_file(directory: Path, stage: str) -> Path:
    """The four tenants of the matrix, all in ``stage``.

    Demo tenants, so their secrets may sit in the file: the proxy accepts them because
    every PDT environment keeps the simulator's base URL, which the double answers.
    """

    def tenant(tenant_id: str, product: str, **extra: Any) -> dict[str, Any]:
        secret = {"value": f"{tenant_id}-secret"}
        account = {"username": tenant_id, "password": secret}
        return {
            "id": tenant_id,
            "name": tenant_id,
            "demo": True,
            "products": [product],
            "users": [{"username": tenant_id, "password_hash": _HASH}],
            "pdt": {"prd": account, "hml": account},
            "legacy": {"prd": account, "hml": account},
            "stage": stage,
            **extra,
        }

    tenants = [
        tenant("fm-dt", "datatrust-v1"),
        tenant("fm-dt-pack", "datatrust-v1", strategy="pack", pack="datatrust"),
        tenant("fm-ffr", "ffr"),
        tenant("fm-mt", "mobile-trust"),
    ]
    path = directory / f"tenants-{stage}.yaml"
    path.write_text(yaml.safe_dump({"tenants": tenants}))
    return path


@dataclass
class Outcome:
    answer: httpx.Response
    metrics: str
    logs: str


Run = Callable[..., Awaitable[Outcome]]


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Everything the case logged: each record before masking (its structlog event
    dict, so a leak is caught even where masking would hide it), with its traceback if
    it carries one, and anything written to stdout/stderr."""
    lines = []
    for record in caplog.records:
        lines.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info:
            lines.append("".join(traceback.format_exception(*record.exc_info)))
    captured = capsys.readouterr()
    return "\n".join([*lines, captured.out, captured.err])


@pytest.fixture
def run(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    tenants_files: dict[str, Path],
) -> Run:
    """Start a fresh proxy in ``stage`` over ``upstream``, send ``op`` once, stop it."""

    async def run(op: Operation, stage: str, upstream: FaultyUpstream, **overrides: Any) -> Outcome:
        caplog.clear()
        capsys.readouterr()
        settings = make_settings(tmp_path, tenants_file=tenants_files[stage], **overrides)
        app = create_app(settings, transport=upstream)
        async with app.lifespan():
            runtime: Runtime = app.runtime
            # Minted, not logged in for: the proxy's own login never calls an upstream,
            # and an argon2 check per case would cost more than the case.
            token, _ = app.legacy.tokens.issue(
                tenant_id=op.tenant, username=op.tenant, environment="prd", products=[op.product]
            )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
                answer = await client.request(
                    op.method,
                    op.path,
                    content=None if op.body is None else orjson.dumps(op.body),
                    headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
                )
            # Rendering costs a few ms; only the fallback cases read it.
            metrics = runtime.metrics.render()[0].decode() if stage == "pdt-fallback" else ""
        return Outcome(answer, metrics, _logged(caplog, capsys))

    return run


# --- checks -----------------------------------------------------------------------------


def _assert_legacy_error(op: Operation, kind: str, answer: httpx.Response) -> None:
    status, body = CATALOG.products[op.product].errors.render(kind, trace_id=answer.headers["x-request-id"])
    assert (answer.status_code, answer.json()) == (status, orjson.loads(body)), answer.text
    assert answer.headers["content-type"].startswith("application/json")


def _assert_nothing_leaked(outcome: Outcome, *, answer_too: bool = True) -> None:
    if answer_too:
        assert MARKER not in outcome.answer.text
        assert "Traceback" not in outcome.answer.text
        assert outcome.answer.status_code != 500, outcome.answer.text
    # The access line is always there: proof the log capture sees the proxy's records.
    assert "pdt_proxy.access: " in outcome.logs
    assert MARKER not in outcome.logs
    assert "Traceback" not in outcome.logs, outcome.logs


def _assert_posts_sent_once(upstream: FaultyUpstream, faulted: tuple[Upstream, str], fault: Fault) -> None:
    """A POST that may have been applied is never repeated (logins change nothing: exempt)."""
    counts: dict[tuple[str, str, str], int] = {}
    for sent in upstream.sent:
        key = (sent.upstream, sent.call, sent.path)
        counts[key] = counts.get(key, 0) + 1
    for sent in upstream.sent:
        if sent.method != "POST" or sent.call == "authentication":
            continue
        if (sent.upstream, sent.call) == faulted and fault.unsent:
            continue  # never reached the upstream: repeating it cannot repeat anything
        assert counts[(sent.upstream, sent.call, sent.path)] == 1, (sent, upstream.sent)


def _assert_fault_was_met(upstream: FaultyUpstream, faulted: tuple[Upstream, str], fault: Fault) -> None:
    # A case that never reached its broken call would pass without testing anything.
    assert upstream.calls(*faulted), (faulted, upstream.sent)
    if fault.id.startswith("body-10mb"):
        limit = MAX_BODY_BYTES + CHUNK + 1
        # Every attempt is bounded; the total over (rare, safe) retries stays small too.
        assert upstream.pulled <= limit * len(upstream.calls(*faulted))


def _fallbacks(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith("pdt_proxy_fallbacks_total{")]


# --- the tables ---------------------------------------------------------------------------


def _pdt_cases() -> Iterator[Any]:
    for op in OPERATIONS:
        for call in op.calls:
            for fault in FAULTS:
                yield pytest.param(op, call, fault, id=f"{op.id}:{call}:{fault.id}")


# The fallback stage's PDT side is the pdt stage's, checked above fault by fault;
# what it adds is the decision (which error kind falls back, with which cause) and
# the legacy answer. So: every PDT call of every operation with one fault of each
# outcome, and every fault on a POST that creates, a GET, and a follow-up after a
# transaction already exists.
FALLBACK_OUTCOMES = frozenset({"read-timeout", "status-503", "missing-field", "extra-field"})
FALLBACK_EVERY_FAULT = frozenset(
    {("dt-create", "transaction"), ("dt-get", "all"), ("mt-create", "sms_token")}
)


# Calls whose effect reaches the end customer: a timeout there is never retried elsewhere.
CODE_SENDS = frozenset({"sms_token", "email_token"})


def _fallback_cases() -> Iterator[Any]:
    for op in OPERATIONS:
        for call in op.calls:
            for fault in FAULTS:
                if fault.id in FALLBACK_OUTCOMES or (op.id, call) in FALLBACK_EVERY_FAULT:
                    yield pytest.param(op, call, fault, id=f"{op.id}:{call}:{fault.id}")


def _legacy_cases() -> Iterator[Any]:
    for op in LEGACY_OPERATIONS:
        for call in ("authentication", "forward"):
            for fault in FAULTS:
                yield pytest.param(op, call, fault, id=f"{op.id}:{call}:{fault.id}")


@pytest.mark.parametrize(("op", "call", "fault"), list(_pdt_cases()))
async def test_pdt_stage(run: Run, op: Operation, call: str, fault: Fault) -> None:
    upstream = FaultyUpstream()
    upstream.arm("pdt", call, fault)
    outcome = await run(op, "pdt", upstream)
    answer = outcome.answer
    if fault.parsed is None:
        assert answer.status_code == op.status, answer.text
        op.schema.validate(answer.json())
    else:
        _assert_legacy_error(op, fault.parsed, answer)
    _assert_nothing_leaked(outcome)
    _assert_fault_was_met(upstream, ("pdt", call), fault)
    _assert_posts_sent_once(upstream, ("pdt", call), fault)
    assert upstream.calls("legacy", "forward") == []


@pytest.mark.parametrize(("op", "call", "fault"), list(_fallback_cases()))
async def test_pdt_fallback_stage(run: Run, op: Operation, call: str, fault: Fault) -> None:
    upstream = FaultyUpstream()
    upstream.arm("pdt", call, fault)
    outcome = await run(op, "pdt-fallback", upstream)
    answer = outcome.answer
    fallbacks = _fallbacks(outcome.metrics)
    if fault.parsed == "upstream_timeout" and call in CODE_SENDS:
        # PDT may have sent the code: no second one from the legacy side; the 504 stands.
        _assert_legacy_error(op, "upstream_timeout", answer)
        assert upstream.calls("legacy", "forward") == []
        assert fallbacks == []
    elif fault.parsed is None:
        # Tolerated: PDT's answer stands, the legacy backend is not asked.
        assert answer.status_code == op.status, answer.text
        op.schema.validate(answer.json())
        assert upstream.calls("legacy", "forward") == []
        assert fallbacks == []
    else:
        assert (answer.status_code, answer.content) == (200, LEGACY_ANSWER)
        assert len(upstream.calls("legacy", "forward")) == 1
        [line] = fallbacks
        assert f'cause="{FALLBACK_CAUSES[fault.parsed]}"' in line
        assert f'tenant="{op.tenant}"' in line
        assert line.endswith(" 1.0")
    _assert_nothing_leaked(outcome)
    _assert_fault_was_met(upstream, ("pdt", call), fault)
    _assert_posts_sent_once(upstream, ("pdt", call), fault)


@pytest.mark.parametrize(("op", "call", "fault"), list(_legacy_cases()))
async def test_legacy_stage(run: Run, op: Operation, call: str, fault: Fault) -> None:
    upstream = FaultyUpstream()
    upstream.arm("legacy", call, fault)
    outcome = await run(op, "legacy", upstream)
    answer = outcome.answer
    expected = fault.parsed if call == "authentication" else fault.forwarded
    if expected == PASSTHROUGH:
        # A read may be asked again after a 502-504 (a safe retry): the last answer stands.
        given = upstream.injected[-1]
        assert given.content is not None
        assert (answer.status_code, answer.content) == (given.status, given.content)
        assert answer.headers["content-type"] == given.content_type
    elif expected is None:
        assert (answer.status_code, answer.content) == (200, LEGACY_ANSWER)
    else:
        _assert_legacy_error(op, expected, answer)
    _assert_nothing_leaked(outcome, answer_too=expected != PASSTHROUGH)
    _assert_fault_was_met(upstream, ("legacy", call), fault)
    _assert_posts_sent_once(upstream, ("legacy", call), fault)
    assert [sent for sent in upstream.sent if sent.upstream == "pdt"] == []


async def test_a_10mb_answer_over_a_real_socket_is_cut_at_the_transport_cap(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The double above streams lazily; here the pooled aiohttp transport itself reads a
    real socket and must stop at 1 MiB (plus its read chunk), whatever the peer sends."""
    monkeypatch.setenv("FAULT_MATRIX_PDT_SECRET", "pdt-secret")
    account = {"username": "fm-real-pdt", "password": {"env": "FAULT_MATRIX_PDT_SECRET"}}
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(
        yaml.safe_dump(
            {
                "tenants": [
                    {
                        "id": "fm-real",
                        "name": "fm-real",
                        "products": ["datatrust-v1"],
                        "users": [{"username": "fm-real", "password_hash": _HASH}],
                        "pdt": {"prd": account},
                    }
                ]
            }
        )
    )
    op = OPERATIONS[0]
    async with HugeAnswerServer() as server:
        environment = PdtEnvironment(base_url=server.base_url)
        settings = make_settings(
            tmp_path,
            tenants_file=tenants,
            pdt=PdtSettings(environments={"prd": environment, "hml": environment}),
        )
        transport = MeasuringTransport(build_transport(settings.pdt))
        app = create_app(settings, transport=transport)
        async with app.lifespan():
            token, _ = app.legacy.tokens.issue(
                tenant_id="fm-real", username="fm-real", environment="prd", products=[op.product]
            )
            client_transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=client_transport, base_url="http://proxy.test") as client:
                answer = await client.post(
                    op.path, json=op.body, headers={"authorization": f"Bearer {token}"}
                )
    _assert_legacy_error(op, "upstream_malformed", answer)
    _assert_nothing_leaked(Outcome(answer, "", _logged(caplog, capsys)))
    assert server.paths.count("/v1/transaction") == 1
    assert max(transport.buffered) <= MAX_BODY_BYTES + CHUNK


# An upstream that never answers, ended by the proxy's own call timeout (lowered so
# the case takes a fraction of a second; still far above what the double needs to
# answer the healthy calls). One case per kind of call: a POST that must not be
# repeated, a GET and a login that may be, and the fallback on a hung PDT.
HUNG = TimeoutSettings(read_s=0.25)
_OPS = {op.id: op for op in OPERATIONS}


@pytest.mark.parametrize(
    ("op", "stage", "upstream_name", "call"),
    [
        pytest.param(_OPS["dt-create"], "pdt", "pdt", "transaction", id="pdt:dt-create:transaction"),
        pytest.param(_OPS["dt-get"], "pdt", "pdt", "all", id="pdt:dt-get:all"),
        pytest.param(_OPS["ffr-score"], "pdt", "pdt", "authentication", id="pdt:ffr-score:authentication"),
        pytest.param(_OPS["mt-create"], "pdt", "pdt", "sms_token", id="pdt:mt-create:sms_token"),
        pytest.param(
            _OPS["dt-create"], "pdt-fallback", "pdt", "transaction", id="pdt-fallback:dt-create:transaction"
        ),
        pytest.param(_OPS["dt-create"], "legacy", "legacy", "forward", id="legacy:dt-create:forward"),
        pytest.param(_OPS["mt-get"], "legacy", "legacy", "authentication", id="legacy:mt-get:authentication"),
    ],
)
async def test_an_upstream_that_never_answers(
    run: Run, op: Operation, stage: str, upstream_name: Upstream, call: str
) -> None:
    upstream = FaultyUpstream()
    upstream.arm(upstream_name, call, HANG)
    outcome = await run(
        op,
        stage,
        upstream,
        pdt=PdtSettings(timeouts=HUNG),
        legacy=LegacySettings(timeouts=HUNG),
    )
    if stage == "pdt-fallback":
        assert (outcome.answer.status_code, outcome.answer.content) == (200, LEGACY_ANSWER)
        [line] = _fallbacks(outcome.metrics)
        assert 'cause="timeout"' in line
    else:
        _assert_legacy_error(op, "upstream_timeout", outcome.answer)
    _assert_nothing_leaked(outcome)
    _assert_fault_was_met(upstream, (upstream_name, call), HANG)
    _assert_posts_sent_once(upstream, (upstream_name, call), HANG)
