"""Fuzzing the legacy surfaces with schemathesis, against the in-process ASGI app.

The document is the one the proxy serves at ``/openapi.json`` (generated from the
mapping catalog), so the fuzzer holds the proxy to its own legacy contracts: every
answer, errors included, must have a documented status, content type and body
shape, and none may be a 5xx (the built-in PDT simulator does not fail on its own).

Used by ``tests/edge/test_fuzz.py`` (a few cases per operation, in the normal suite)
and by ``scripts/fuzz`` (``python -m tests.edge.fuzz_support``: the long run).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, ServerError
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from proxy.composition import create_app
from proxy.config import LoggingSettings, RateLimitSettings, Settings, load_settings
from proxy.mapping.formats import FORMATS
from proxy.observability.logging import configure_logging

__all__ = ["DEFAULT_SEED", "Fuzzer", "OperationReport", "fuzz_settings", "main"]

DEFAULT_SEED: Final = 20261202
# The demo tenants (README "Demo tenants"): one per product.
DEMO_USERS: Final = {
    "datatrust-v1": ("demo-dt", "demo-dt-secret"),
    "ffr": ("demo-ffr", "demo-ffr-secret"),
    "mobile-trust": ("demo-mt", "demo-mt-secret"),
}
# Valid bodies (README and mappings/*/examples) that create a transaction, so the
# routes taking a transaction id are also fuzzed with ids that exist.
_SEED_TRANSACTIONS: Final[dict[str, tuple[str, dict[str, Any]]]] = {
    "datatrust-v1": (
        "datatrust.transaction.create",
        {
            "IdentifierId": "pedido-123",
            "Document": "123.456.789-09",
            "Email": "maria@example.com",
            "Phone": {"AreaCode": "11", "Number": "988056887"},
            "ZipCode": "06454-050",
        },
    ),
    "mobile-trust": (
        "mobiletrust.transaction.create",
        {"Document": "19678335832", "AreaCode": "11", "Phone": "988056887", "BlockSmsSending": False},
    ),
}
_CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_KEPT_FAILURES: Final = 5


def _check_digit(digits: list[int], weights: range | list[int]) -> int:
    rest = sum(digit * weight for digit, weight in zip(digits, weights, strict=False)) % 11
    return 0 if rest < 2 else 11 - rest


@st.composite
def _cpfs(draw: st.DrawFn) -> str:
    digits = draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))
    digits.append(_check_digit(digits, range(10, 1, -1)))
    digits.append(_check_digit(digits, range(11, 1, -1)))
    text = "".join(map(str, digits))
    if draw(st.booleans()):
        text = f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"
    return text


@st.composite
def _cnpjs(draw: st.DrawFn) -> str:
    digits = draw(st.lists(st.integers(0, 9), min_size=12, max_size=12))
    digits.append(_check_digit(digits, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
    digits.append(_check_digit(digits, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
    text = "".join(map(str, digits))
    if draw(st.booleans()):
        text = f"{text[:2]}.{text[2:5]}.{text[5:8]}/{text[8:12]}-{text[12:]}"
    return text


_local_times = st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S"))
_dates = st.dates().map(lambda day: day.strftime("%Y-%m-%d"))


def register_formats() -> None:
    """Generators for the contracts' own formats, the proxy's predicates as the last word.

    Without them schemathesis would draw arbitrary strings for ``cpf``, and almost
    no generated body would get past the 400 to the mapping and the PDT simulator.
    """
    strategies = {
        "cpf": _cpfs(),
        "cnpj": _cnpjs(),
        "local-date-time": _local_times,
        "date-or-date-time": st.one_of(_dates, _local_times, _local_times.map(lambda text: text + "Z")),
    }
    for name, strategy in strategies.items():
        schemathesis.openapi.format(name, strategy.filter(FORMATS[name]))


def fuzz_settings(data_dir: Path) -> Settings:
    settings = load_settings(environ={})
    # Sequential fuzzing can pass the demo tenants' 200/s: 429s would be correct
    # (they are documented) but would hide the deeper answers behind them.
    server = settings.server.model_copy(
        update={"tenant_rate_limit": RateLimitSettings(requests_per_s=1e6, burst=1_000_000)}
    )
    return settings.model_copy(update={"data_dir": data_dir, "server": server})


@dataclass
class OperationReport:
    label: str
    cases: int = 0
    server_errors: int = 0
    schema_violations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def keep(self, text: str) -> None:
        if len(self.failures) < _KEPT_FAILURES:
            self.failures.append(text)


class Fuzzer:
    """The app, its schemathesis schema, one legacy token per product and environment."""

    def __init__(self, settings: Settings) -> None:
        register_formats()
        self.app = create_app(settings)
        # Fetched through the app itself: the served document is the one under test.
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.operations: dict[str, Any] = {}
        for result in self.schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()  # the served document must load whole
            self.operations[result.ok().definition.raw["operationId"]] = result.ok()
        self.tokens: dict[tuple[str, str], str] = {}
        self.ids: dict[tuple[str, str], list[str]] = {}
        self._login()
        self._seed_transactions()

    def _call(
        self,
        operation_id: str,
        body: Any,
        headers: dict[str, str] | None = None,
        path_parameters: dict[str, str] | None = None,
    ) -> Any:
        operation = self.operations[operation_id]
        case = operation.Case(body=body, media_type="application/json", path_parameters=path_parameters)
        response = case.call(headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{operation_id}: setup call answered {response.status_code}")
        return response.json()

    def _login(self) -> None:
        for operation_id, operation in self.operations.items():
            if operation.definition.raw.get("security"):
                continue
            environment = operation_id.rsplit(".", 1)[1]
            for product in operation.definition.raw["tags"]:
                user, password = DEMO_USERS[product]
                # The families name the fields differently: product.yaml says which.
                spec = self.app.runtime.catalog.products[product].authentication.spec
                answer = self._call(operation_id, {spec.username: user, spec.password: password})
                token = answer.get("token") or answer.get("Token")
                self.tokens[(product, environment)] = token

    def _seed_transactions(self) -> None:
        for product, environment in self.tokens:
            if product not in _SEED_TRANSACTIONS:
                continue
            operation_name, body = _SEED_TRANSACTIONS[product]
            answer = self._call(f"{operation_name}.{environment}", body, self._auth(product, environment))
            known = answer.get("transactionId") or answer["TransactionID"]
            self.ids[(product, environment)] = [known]
            send = f"datatrust.token.send.{environment}"
            if product == "datatrust-v1" and send in self.operations:
                # A token on each channel of the known transaction: validating it is then
                # fuzzed on its own, not only after some generated send case happened to
                # reach that id first (which made the run depend on generation order).
                for channel in ("email", "sms"):
                    self._call(
                        send, {"Channel": channel}, self._auth(product, environment), {"transactionId": known}
                    )

    def _auth(self, product: str, environment: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(product, environment)]}"}

    def fuzz(self, operation_id: str, *, cases: int, seed: int) -> OperationReport:
        operation = self.operations[operation_id]
        raw = operation.definition.raw
        environment = operation_id.rsplit(".", 1)[1]
        product = raw["tags"][0]
        headers = self._auth(product, environment) if raw.get("security") else None
        known_ids = self.ids.get((product, environment), [])
        report = OperationReport(operation_id)
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )
        # Half the cases with an id that exists, when the route takes one and one was made.
        with_ids = st.tuples(strategy, st.sampled_from(known_ids) if known_ids else st.none(), st.booleans())

        def run(drawn: tuple[Any, str | None, bool]) -> None:
            case, known, use_known = drawn
            if known is not None and use_known:
                case.path_parameters = dict.fromkeys(case.path_parameters or {}, known)
            self._one(case, headers, report)

        attempt = 0
        # Hypothesis may stop short (a small input space); top up with the next seed.
        while report.cases < cases and attempt < 5:
            test = given(with_ids)(run)
            test = hypothesis.settings(
                max_examples=cases - report.cases,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                verbosity=Verbosity.quiet,
            )(test)
            hypothesis.seed(seed + attempt)(test)()
            attempt += 1
        return report

    def _one(self, case: Any, headers: dict[str, str] | None, report: OperationReport) -> None:
        report.cases += 1
        try:
            response = case.call(headers=headers)
        except Exception as error:  # an exception out of the app is a server error too
            report.server_errors += 1
            report.keep(f"exception: {type(error).__name__}: {error}")
            return
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=_CHECKS, headers=headers)
        except FailureGroup as group:
            server = any(isinstance(failure, ServerError) for failure in group.exceptions)
            if server:
                report.server_errors += 1
            if not server or len(group.exceptions) > 1:
                report.schema_violations += 1
            report.keep(_describe(case, response, group))

    def close(self) -> None:
        shutdown_lifespans()


def _describe(case: Any, response: Any, group: FailureGroup) -> str:
    titles = "; ".join(f"{type(failure).__name__}: {failure.title}" for failure in group.exceptions)
    body = response.content[:300].decode("utf-8", "replace")
    return (
        f"{case.method} {case.formatted_path} media={case.media_type} body={case.body!r:.300}"
        f" -> {response.status_code} {body} [{titles}]"
    )


@contextmanager
def fuzzer(data_dir: Path | None = None) -> Iterator[Fuzzer]:
    with tempfile.TemporaryDirectory() if data_dir is None else _same(data_dir) as directory:
        instance = Fuzzer(fuzz_settings(Path(directory) / "data"))
        try:
            yield instance
        finally:
            instance.close()


@contextmanager
def _same(path: Path) -> Iterator[str]:
    yield str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="schemathesis over the proxy's generated OpenAPI document")
    parser.add_argument("--cases", type=int, default=1000, help="generated cases per operation")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    # The proxy's warnings (unmapped sample codes) would drown the table; errors stay.
    configure_logging(LoggingSettings(level="ERROR"), stream=sys.stderr)
    started = time.monotonic()
    reports: list[OperationReport] = []
    with fuzzer() as instance:
        for operation_id in sorted(instance.operations):
            op_started = time.monotonic()
            report = instance.fuzz(operation_id, cases=args.cases, seed=args.seed)
            reports.append(report)
            statuses = " ".join(f"{code}:{count}" for code, count in sorted(report.statuses.items()))
            elapsed = time.monotonic() - op_started
            print(
                f"{operation_id:42} cases={report.cases:5} server_errors={report.server_errors}"
                f" schema_violations={report.schema_violations} {elapsed:6.1f}s  {statuses}",
                flush=True,
            )
            for text in report.failures:
                print(f"    ! {text}", flush=True)
    total = sum(report.cases for report in reports)
    server = sum(report.server_errors for report in reports)
    violations = sum(report.schema_violations for report in reports)
    short = [report.label for report in reports if report.cases < args.cases]
    print(
        f"TOTAL operations={len(reports)} cases={total} server_errors={server}"
        f" schema_violations={violations} seed={args.seed} elapsed={time.monotonic() - started:.1f}s"
    )
    if short:
        print(f"operations with fewer than {args.cases} cases: {', '.join(short)}")
    return 1 if server or violations or short else 0


if __name__ == "__main__":
    sys.exit(main())
