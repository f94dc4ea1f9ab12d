"""A pytest plugin that scans every log line the suite writes for personal data in clear.

Masking is done in one place (``proxy.privacy``, applied by the logging chain of
``proxy.observability.logging``); this plugin checks, over the whole suite's real
traffic, that nothing personal gets past it. At the end of the session the run fails
(exit status 1) if any line held a CPF with valid check digits, an e-mail, a
Brazilian phone, a bearer token, a JWT, a secret under a key (``password=...``) or a
CNPJ: whatever ``privacy.find_personal_data`` reports, the same detectors
``mask_text`` masks with, so the scan and the masking cannot disagree on what is
personal. The report names the test, the channel, the logger and the *kind*, with
the line masked and the file and line of the logging call; the clear value is never
printed.

Lines are caught on five channels:

==========  =========================================================  ===========
channel     what                                                       on a find
==========  =========================================================  ===========
rendered    every record that reaches the root logger, rendered by     fails
            the proxy's own formatter (``configure_logging``'s, JSON):
            what the proxy writes in production, whether or not the
            test installed the proxy's handler
handler     what any other handler formats: the proxy's handler when   fails
            a test installs it, a library's or a test's own
            ``StreamHandler`` (an unmasked logger)
structlog   what structlog prints without the standard library         fails
            (``PrintLogger``, ``WriteLogger``, ``BytesLogger``), e.g.
            after a reset to its defaults
raw         a stdlib record's message before any formatter             reported,
                                                                       not failing
premask     an event as the code handed it to the proxy's redaction    reported,
            point (``_mask_event``), structlog's and the stdlib's      not failing
==========  =========================================================  ===========

``raw`` and ``premask`` do not fail because masking is the formatter's job by design
(a test that logs a clear CPF to prove it is masked must pass); they are listed so
that the call sites relying on the masking are visible (each finding carries the
file and line of the logging call), and because pytest's own log capture (excluded
from ``handler``: it is the harness, not the proxy) prints raw messages in a failure
report.

The session logs at the proxy's production levels (``LoggingSettings()``: root at
INFO, per-call library chatter at WARNING), so the records scanned are the ones
production would write; at the stdlib default (WARNING) most proxy lines would never
be created, and so never scanned.

Values the logging module writes itself and never masks by design (``timestamp``,
``level``, ``logger``, ``request_id``: a uuid's hex can hold a digit run shaped like
a phone) are left out of the scan of a JSON line: by key, as the proxy does, never
by value.

``--pii-scan-report=PATH`` also writes every finding (masked) as JSON.
"""

from __future__ import annotations

import inspect
import io
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
import pytest
import structlog

from proxy import privacy
from proxy.config import LoggingSettings
from proxy.observability import logging as proxy_logging

__all__ = ["CHANNELS", "FAILING_CHANNELS", "Finding", "PiiScan"]

CHANNELS: Final = ("rendered", "handler", "structlog", "raw", "premask")
FAILING_CHANNELS: Final = frozenset(CHANNELS[:3])
OUTSIDE_TESTS: Final = "<outside any test>"
_EXCERPT_CHARS: Final = 200
_REPORT_LINES: Final = 60
# The keys proxy.observability.logging writes itself and deliberately leaves unmasked.
_OWN_KEYS: Final[tuple[str, ...]] = proxy_logging._OWN_KEYS
_STRUCTLOG_META: Final[tuple[str, ...]] = proxy_logging._STRUCTLOG_META
# Frames of the logging machinery and of this plugin, skipped to find who logged.
_MACHINERY: Final = (
    str(Path(logging.__file__).parent),
    str(Path(structlog.__file__).parent),
    str(Path(proxy_logging.__file__)),
    str(Path(privacy.__file__).parent),  # the whole package
    str(Path(__file__)),
)
_STRUCTLOG_OUTPUTS: Final = (structlog.PrintLogger, structlog.WriteLogger, structlog.BytesLogger)


@dataclass(frozen=True, slots=True)
class Finding:
    """Where personal data was seen: never the value, only its kind and the masked line."""

    test: str
    channel: str
    logger: str
    kind: privacy.PersonalDataKind
    # The file and line of the logging call, outside the logging machinery.
    site: str = "?"


def _scannable(text: str) -> str:
    """``text`` without the logging module's own keys when it is one JSON object."""
    if not text.startswith("{"):
        return text
    try:
        line = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if not isinstance(line, dict):
        return text
    for key in _OWN_KEYS:
        line.pop(key, None)
    return orjson.dumps(line).decode("utf-8")


def _call_site() -> str:
    """``path:line`` of the innermost frame outside logging, structlog and this plugin.

    Called synchronously from inside the logging call, so the caller is on the stack.
    """
    frame = inspect.currentframe()
    root = os.getcwd() + os.sep  # paths as the run shows them: relative to where it started
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_MACHINERY):
            return f"{filename.removeprefix(root)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def _is_harness(handler: logging.Handler) -> bool:
    # pytest's log capture (caplog, the report sections, live logging) shows test data
    # to the developer; it is not output of the proxy.
    return type(handler).__module__.startswith("_pytest")


def _project_formatter() -> logging.Formatter:
    """The formatter ``configure_logging`` installs in production, with JSON output.

    Taken from a real ``configure_logging`` call rather than rebuilt, so the scan
    follows the proxy's chain as it changes. The call also leaves the production
    levels in place (see the module docstring); its handler is removed again.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    proxy_logging.configure_logging(LoggingSettings.model_validate({"json": True}), stream=io.StringIO())
    added = [handler for handler in root.handlers if handler not in before]
    formatter = added[0].formatter if len(added) == 1 else None
    for handler in added:
        root.removeHandler(handler)
        handler.close()
    if formatter is None:
        raise RuntimeError("pii scan: configure_logging did not install exactly one formatted handler")
    return formatter


class _RootScan(logging.Handler):
    """On the root logger: renders each record as the proxy would and scans it and its raw message.

    No ``formatter`` of its own (tests count the root handlers that have the proxy's
    formatter); the project's formatter is held aside.
    """

    def __init__(self, scan: PiiScan, render: logging.Formatter) -> None:
        super().__init__(logging.NOTSET)
        self._scan = scan
        self._render = render

    def emit(self, record: logging.LogRecord) -> None:
        try:
            rendered = self._render.format(record)
        except Exception:  # a record the proxy's handler could not write either
            rendered = ""
        self._scan.scan("rendered", record.name, rendered)
        # A structlog record's msg is its event dict, already masked by the chain.
        if not isinstance(record.msg, dict):
            try:
                raw = record.getMessage()
            except Exception:  # bad %-arguments: logging itself would report them
                raw = str(record.msg)
            self._scan.scan("raw", record.name, raw)


class PiiScan:
    """The session's scanner: installs the taps, attributes lines to tests, reports."""

    def __init__(self, report_path: Path | None = None) -> None:
        self.report_path = report_path
        self.findings: Counter[Finding] = Counter()
        self.excerpts: dict[Finding, str] = {}
        # Lines scanned per channel: a tap that silently stopped seeing lines would
        # otherwise look exactly like a clean run.
        self.scanned: Counter[str] = Counter()
        self.current_test = OUTSIDE_TESTS
        self._lock = threading.Lock()
        self._undo: list[Callable[[], None]] = []
        self._root_handler: _RootScan | None = None

    # --- scanning ---------------------------------------------------------------------

    def scan(self, channel: str, logger: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if not text:
            return
        self.scanned[channel] += 1
        scanned = _scannable(text)
        kinds = privacy.find_personal_data(scanned)
        if not kinds:
            return
        excerpt = privacy.mask_text(scanned)[:_EXCERPT_CHARS]
        site = _call_site()
        with self._lock:
            for kind in kinds:
                finding = Finding(self.current_test, channel, logger, kind, site)
                self.findings[finding] += 1
                self.excerpts.setdefault(finding, excerpt)

    def failures(self) -> list[tuple[Finding, int]]:
        return sorted(
            ((f, n) for f, n in self.findings.items() if f.channel in FAILING_CHANNELS),
            key=lambda item: (item[0].test, item[0].channel, item[0].logger, item[0].kind),
        )

    def informational(self) -> list[tuple[Finding, int]]:
        return sorted(
            ((f, n) for f, n in self.findings.items() if f.channel not in FAILING_CHANNELS),
            key=lambda item: (item[0].logger, item[0].kind, item[0].test),
        )

    # --- taps ---------------------------------------------------------------------------

    def install(self) -> None:
        self._root_handler = _RootScan(self, _project_formatter())
        logging.getLogger().addHandler(self._root_handler)
        self._tap_handlers()
        self._tap_structlog()
        self._tap_premask()

    def uninstall(self) -> None:
        if self._root_handler is not None:
            logging.getLogger().removeHandler(self._root_handler)
        while self._undo:
            self._undo.pop()()

    def ensure_root_handler(self) -> None:
        """Put the root tap back if a test replaced the root handlers and did not restore them."""
        root = logging.getLogger()
        if self._root_handler is not None and self._root_handler not in root.handlers:
            root.addHandler(self._root_handler)

    def _tap_handlers(self) -> None:
        # Every stdlib handler formats through Handler.format before writing, so this
        # one patch sees the output of handlers created at any time, by anyone.
        original = logging.Handler.format
        scan = self.scan

        def format_and_scan(handler: logging.Handler, record: logging.LogRecord) -> str:
            text = original(handler, record)
            if not _is_harness(handler):
                scan("handler", record.name, text)
            return text

        # setattr: assigning a method on the class is what mypy rightly frowns upon elsewhere.
        setattr(logging.Handler, "format", format_and_scan)  # noqa: B010

        def undo() -> None:
            setattr(logging.Handler, "format", original)  # noqa: B010

        self._undo.append(undo)

    def _tap_structlog(self) -> None:
        for output in _STRUCTLOG_OUTPUTS:
            original = output.msg
            tapped = self._structlog_tap(original)
            # msg, info, error ... are one function under several names.
            names = [name for name, value in vars(output).items() if value is original]
            for name in names:
                setattr(output, name, tapped)

            def undo(output: type = output, names: list[str] = names, original: Any = original) -> None:
                for name in names:
                    setattr(output, name, original)

            self._undo.append(undo)

    def _tap_premask(self) -> None:
        # Just before the proxy's redaction point, in both of its chains: what the code
        # hands to the masker. Informational: it says which call sites rely on masking.
        scan = self.scan

        def premask(_logger: Any, _method: str, event_dict: Any) -> Any:
            shown = {
                key: value
                for key, value in event_dict.items()
                if key not in _OWN_KEYS and key not in _STRUCTLOG_META
            }
            try:
                text = orjson.dumps(shown, default=str, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
            except TypeError:  # what orjson refuses even through default=str
                text = str(shown)
            scan("premask", str(event_dict.get("logger", "?")), text)
            return event_dict

        for chain in (proxy_logging._STRUCTLOG_CHAIN, proxy_logging._FOREIGN_CHAIN):
            # The lists themselves: structlog's configuration and the formatter hold them
            # by reference, so an insertion reaches loggers already cached.
            chain.insert(chain.index(proxy_logging._mask_event), premask)

            def undo(chain: list[Any] = chain) -> None:
                chain.remove(premask)

            self._undo.append(undo)

    def _structlog_tap(self, original: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        scan = self.scan

        def msg(logger: Any, message: Any) -> None:
            scan("structlog", type(logger).__name__, message if isinstance(message, str | bytes) else "")
            original(logger, message)

        return msg

    # --- hooks ---------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.ensure_root_handler()
        self.current_test = item.nodeid
        try:
            return (yield)
        finally:
            self.current_test = OUTSIDE_TESTS

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.report_path is not None:
            self.report_path.write_bytes(orjson.dumps(self._report(), option=orjson.OPT_INDENT_2))
        if self.failures() and session.exitstatus == pytest.ExitCode.OK:
            # The tests passed; the logs they wrote did not.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        failures, informational = self.failures(), self.informational()
        terminalreporter.section("PII scan", sep="=", red=bool(failures), green=not failures)
        seen = ", ".join(f"{channel} {self.scanned[channel]}" for channel in CHANNELS)
        write(f"log lines scanned: {seen}")
        if failures:
            write(f"personal data in clear in {sum(n for _, n in failures)} log line value(s):")
            for line in _lines(failures, self.excerpts):
                write(line)
        else:
            write("no personal data in clear in any written log line")
        if informational:
            write(
                f"informational: {sum(n for _, n in informational)} value(s) handed to logging in clear "
                "and masked before being written (not a failure; -v lists them)"
            )
            # The masking tests log personal data on purpose: listing them on every run buries
            # the summary; a reviewer asks for the list.
            # (pyproject adds -q, so a plain -v brings verbosity to 0.)
            if terminalreporter.config.getoption("verbose") >= 0:
                for line in _lines(informational, self.excerpts):
                    write(line)

    def pytest_unconfigure(self) -> None:
        self.uninstall()

    def _report(self) -> dict[str, Any]:
        return {
            "failing_channels": sorted(FAILING_CHANNELS),
            "scanned": {channel: self.scanned[channel] for channel in CHANNELS},
            "findings": [
                {
                    "test": f.test,
                    "channel": f.channel,
                    "logger": f.logger,
                    "kind": f.kind,
                    "site": f.site,
                    "count": n,
                    "masked_line": self.excerpts[f],
                }
                for f, n in [*self.failures(), *self.informational()]
            ],
        }


def _lines(findings: list[tuple[Finding, int]], excerpts: dict[Finding, str]) -> Iterator[str]:
    """One line per test, channel and logger: the kinds with their counts, and one masked line."""
    groups: dict[tuple[str, str, str, str], list[tuple[Finding, int]]] = {}
    for finding, count in findings:
        key = (finding.test, finding.channel, finding.logger, finding.site)
        groups.setdefault(key, []).append((finding, count))
    for index, ((test, channel, logger, site), found) in enumerate(sorted(groups.items())):
        if index == _REPORT_LINES:
            yield f"  ... and {len(groups) - _REPORT_LINES} more (--pii-scan-report=PATH lists all)"
            return
        kinds = ", ".join(f"{finding.kind} x{count}" for finding, count in found)
        yield f"  {test} [{channel}] logger={logger} at {site}: {kinds}"
        yield f"      masked: {excerpts[found[0][0]]}"


# --- plugin entry points -----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pii-scan-report",
        type=Path,
        default=None,
        metavar="PATH",
        help="write every finding of the PII log scan (masked) to PATH as JSON",
    )


def pytest_configure(config: pytest.Config) -> None:
    scan = PiiScan(config.getoption("--pii-scan-report"))
    scan.install()
    config.pluginmanager.register(scan, "pii-scan")
