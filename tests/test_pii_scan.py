"""The PII log scan (tests/pii_scan.py) catches every kind, on every channel, and nothing masked.

The end-to-end cases run pytest in a subprocess on a tiny generated test file with
the plugin loaded, because what is under test is the *session's* exit status and
report, which a test cannot observe from inside its own session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest

from proxy.privacy import PersonalDataKind
from tests.pii_scan import FAILING_CHANNELS, OUTSIDE_TESTS, PiiScan

ROOT = Path(__file__).resolve().parents[1]

CPF = "123.456.789-09"
CPF_BARE = "19678335832"
EMAIL = "maria.silva@example.com"
PHONE = "+55 11 98805-6887"
BEARER = "Bearer abcdef0123456789"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
CLEAR_VALUES = (CPF, CPF_BARE, "maria.silva", "98805-6887", "abcdef0123456789", JWT, "hunter2")

# The preamble of the generated test file: a logger whose own plain handler writes
# what it is given, the way an unmasked library or ad-hoc debug logger would.
_PREAMBLE = """
import io
import logging

import structlog

from proxy.observability.logging import get_logger


def unmasked(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.propagate = False
    logger.handlers[:] = [logging.StreamHandler(io.StringIO())]
    logger.setLevel(logging.INFO)
    return logger


def with_masking_off(log) -> None:
    # The proxy's own chain with its redaction step made a no-op: what the rendered
    # channel must catch if the masking ever regressed.
    import proxy.privacy as privacy

    original = privacy.mask_mapping
    privacy.mask_mapping = lambda data, drop=(): dict(data)
    try:
        log()
    finally:
        privacy.mask_mapping = original
"""

# (test name, body, kind the scan must name, channel it must come through).
LEAKS: list[tuple[str, str, PersonalDataKind, str]] = [
    ("test_cpf_formatted", f"unmasked('leaky').warning('doc %s', {CPF!r})", "cpf", "handler"),
    ("test_cpf_bare", f"unmasked('leaky').warning('doc {CPF_BARE}')", "cpf", "handler"),
    ("test_email", f"unmasked('leaky').warning('mail {EMAIL}')", "email", "handler"),
    ("test_phone", f"unmasked('leaky').warning('tel {PHONE}')", "phone", "handler"),
    ("test_bearer", f"unmasked('leaky').warning('sent {BEARER} upstream')", "bearer", "handler"),
    ("test_jwt", f"unmasked('leaky').warning('tok {JWT}')", "jwt", "handler"),
    ("test_secret", "unmasked('leaky').warning('login password=hunter2')", "secret", "handler"),
    (
        "test_proxy_structlog_unmasked",
        f"with_masking_off(lambda: get_logger('app').warning('doc', cpf={CPF!r}))",
        "cpf",
        "rendered",
    ),
    (
        "test_proxy_stdlib_unmasked",
        f"with_masking_off(lambda: logging.getLogger('app').warning('mail {EMAIL}'))",
        "email",
        "rendered",
    ),
    (
        "test_structlog_without_stdlib",
        f"structlog.PrintLogger(io.StringIO()).msg('doc {CPF}')",
        "cpf",
        "structlog",
    ),
]

# The same values through the proxy's own loggers: masked by its formatter, so clean;
# and a CPF-shaped number with wrong check digits, which is not a CPF, in clear.
MASKED: list[tuple[str, str]] = [
    ("test_stdlib_through_root", f"logging.getLogger('app').warning('doc %s mail %s', {CPF!r}, {EMAIL!r})"),
    ("test_structlog_through_the_chain", f"get_logger('app').warning('doc', cpf={CPF!r}, tel={PHONE!r})"),
    ("test_an_order_number_is_not_a_cpf", "unmasked('orders').warning('order 12345678900 shipped')"),
    ("test_already_masked", "unmasked('leaky').warning('doc ***.***.***-09 Bearer ***')"),
]


def _run(tmp_path: Path, cases: list[tuple[str, str]]) -> tuple[subprocess.CompletedProcess[str], Any]:
    source = _PREAMBLE + "".join(f"\n\ndef {name}() -> None:\n    {body}\n" for name, body in cases)
    (tmp_path / "test_tiny.py").write_text(textwrap.dedent(source), encoding="utf-8")
    report = tmp_path / "report.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 - our own interpreter on a file this test wrote
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.pii_scan",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:asyncio",
            f"--pii-scan-report={report}",
            "test_tiny.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, orjson.loads(report.read_bytes()) if report.exists() else None


def test_a_value_in_clear_fails_the_run_and_is_reported_by_kind_only(tmp_path: Path) -> None:
    done, report = _run(tmp_path, [(name, body) for name, body, _, _ in LEAKS])
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"{len(LEAKS)} passed" in output  # the tests passed; their logs failed the run
    failing = {
        (entry["test"].split("::")[-1], entry["kind"], entry["channel"])
        for entry in report["findings"]
        if entry["channel"] in FAILING_CHANNELS
    }
    assert failing == {(name, kind, channel) for name, _, kind, channel in LEAKS}
    assert {entry["site"].split(":")[0] for entry in report["findings"]} == {"test_tiny.py"}
    for name, _, kind, channel in LEAKS:
        assert f"test_tiny.py::{name} [{channel}]" in output
        assert kind in output
    for value in CLEAR_VALUES:
        assert value not in output, value
        assert value not in str(report["findings"]), value


def test_masked_output_passes_and_raw_messages_are_only_listed(tmp_path: Path) -> None:
    done, report = _run(tmp_path, MASKED)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "no personal data in clear in any written log line" in output
    # Listed, not failing: the stdlib record held the CPF and e-mail before the formatter
    # masked them, and both events reached the redaction point in clear; each names the
    # line of the test that logged it.
    assert {(entry["channel"], entry["kind"]) for entry in report["findings"]} == {
        ("raw", "cpf"),
        ("raw", "email"),
        ("premask", "cpf"),
        ("premask", "email"),
        ("premask", "phone"),
    }
    assert {entry["site"].split(":")[0] for entry in report["findings"]} == {"test_tiny.py"}
    for value in CLEAR_VALUES:
        assert value not in output, value


# --- the scanner on its own ---------------------------------------------------------------------

SCANNED: list[tuple[str, str, list[PersonalDataKind]]] = [
    ("rendered", f'{{"event": "doc {CPF}"}}', ["cpf"]),
    ("handler", f"plain text {EMAIL}", ["email"]),
    ("structlog", f"tel {PHONE}", ["phone"]),
    ("rendered", '{"event": "doc ***.***.***-09", "tel": "+55 11 *****-**87"}', []),
    # The logging module's own keys are not masked by design (a uuid's digits can look
    # like a phone): left out by key, exactly as the proxy does; the same value under
    # any other key is found.
    ("rendered", '{"request_id": "11988056887", "event": "access"}', []),
    ("rendered", '{"request_id": "x", "event": "access 11988056887"}', ["phone"]),
    ("handler", "not json {request_id: 11988056887}", ["phone"]),
]


@pytest.mark.parametrize(("channel", "text", "kinds"), SCANNED)
def test_scan_counts_each_kind_under_the_current_test(
    channel: str, text: str, kinds: list[PersonalDataKind]
) -> None:
    scan = PiiScan()
    scan.current_test = "tests/x.py::test_y"
    scan.scan(channel, "some.logger", text)
    found = {(f.test, f.channel, f.logger, f.kind): n for f, n in scan.findings.items()}
    assert found == {("tests/x.py::test_y", channel, "some.logger", kind): 1 for kind in kinds}
    # The site is whoever called the logging (here: this test), so a report leads to the code.
    assert {f.site.split(":")[0] for f in scan.findings} <= {"tests/test_pii_scan.py"}
    for excerpt in scan.excerpts.values():
        assert not any(value in excerpt for value in CLEAR_VALUES)


def test_only_raw_findings_do_not_fail() -> None:
    scan = PiiScan()
    scan.scan("raw", "httpx", f"GET /x?cpf={CPF}")
    assert scan.failures() == []
    assert [finding.test for finding, _ in scan.informational()] == [OUTSIDE_TESTS]
