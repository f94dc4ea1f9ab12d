"""proxy.observability.logging: one JSON line per record, masked, whoever logged it."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
import structlog

from proxy.config import LoggingSettings
from proxy.observability.logging import (
    ACCESS_LOGGER,
    bind_request_id,
    configure_logging,
    current_request_id,
    get_logger,
    log_access,
    reset_request_id,
)

CPF = "123.456.789-09"
CPF_DIGITS = "12345678909"
EMAIL = "maria.silva@example.com"
PHONE = "+55 11 98805-6887"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
PERSONAL = (CPF, CPF_DIGITS, "maria.silva", "98805-6887", "988056887", JWT, "hunter2")

_LOGGERS_TOUCHED = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Leave the process's logging as the test found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for name in _LOGGERS_TOUCHED
        for lg in [logging.getLogger(name)]
    }
    reset_request_id()
    yield
    reset_request_id()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (lg_handlers, lg_level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = lg_handlers
        lg.setLevel(lg_level)
        lg.propagate, lg.disabled = propagate, disabled


Lines = Callable[[], list[dict[str, Any]]]


def _configure(json_output: bool = True, level: str = "INFO") -> io.StringIO:
    stream = io.StringIO()
    configure_logging(LoggingSettings.model_validate({"level": level, "json": json_output}), stream=stream)
    return stream


@pytest.fixture
def stream() -> io.StringIO:
    return _configure()


@pytest.fixture
def lines(stream: io.StringIO) -> Lines:
    def read() -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in stream.getvalue().splitlines()]

    return read


def _assert_nothing_personal(text: str) -> None:
    for value in PERSONAL:
        assert value not in text, value


# --- masking, both ways in ----------------------------------------------------------------


def test_structlog_line_is_json_and_masked(stream: io.StringIO, lines: Lines) -> None:
    get_logger("proxy.test").info(
        "customer %s sent cpf %s",
        EMAIL,
        CPF,
        phone=PHONE,
        Document=CPF_DIGITS,
        note=f"token {JWT}",
        body={"Name": "Maria", "Password": "hunter2"},
    )
    _assert_nothing_personal(stream.getvalue())
    (line,) = lines()
    assert line["event"] == "customer m***@example.com sent cpf ***.***.***-09"
    assert line["phone"] == "+55 11 *****-**87"
    assert line["Document"] == "***.***.***-09"
    assert line["note"] == "token ***"
    assert line["body"] == {"Name": "***", "Password": "***"}
    assert line["level"] == "info"
    assert line["logger"] == "proxy.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", line["timestamp"])


@pytest.mark.parametrize("logger_name", ["httpx", "uvicorn.error", "aiohttp.client", "proxy.anything"])
def test_stdlib_records_are_json_and_masked(stream: io.StringIO, lines: Lines, logger_name: str) -> None:
    logging.getLogger(logger_name).warning(
        "HTTP Request: GET https://pdt.example/v1/x?cpf=%s&email=%s phone %s auth Bearer %s",
        CPF_DIGITS,
        EMAIL,
        PHONE,
        JWT,
    )
    _assert_nothing_personal(stream.getvalue())
    (line,) = lines()
    assert line["logger"] == logger_name
    assert line["level"] == "warning"
    assert line["event"] == (
        "HTTP Request: GET https://pdt.example/v1/x?cpf=***.***.***-09&email=m***@example.com "
        "phone +55 11 *****-**87 auth Bearer ***"
    )


@pytest.mark.parametrize(
    "key", ["authorization", "Authorization", "cookie", "Set-Cookie", "x-api-key", "X-API-Key"]
)
def test_credential_keys_are_dropped_at_any_depth(stream: io.StringIO, lines: Lines, key: str) -> None:
    get_logger("proxy.test").info(
        "headers", **{key: "secret-value"}, headers={key: "secret-value", "accept": "json"}
    )
    assert "secret-value" not in stream.getvalue()
    (line,) = lines()
    assert key not in line
    assert line["headers"] == {"accept": "json"}


def test_exception_tracebacks_are_masked(stream: io.StringIO, lines: Lines) -> None:
    log = get_logger("proxy.test")
    try:
        raise ValueError(f"bad document {CPF} for {EMAIL}")
    except ValueError:
        log.exception("failed")
    try:
        raise RuntimeError(f"upstream said {CPF_DIGITS}")
    except RuntimeError:
        logging.getLogger("httpx").exception("stdlib failed")
    _assert_nothing_personal(stream.getvalue())
    structlog_line, stdlib_line = lines()
    assert "ValueError: bad document ***.***.***-09 for m***@example.com" in structlog_line["exception"]
    assert "RuntimeError: upstream said ***.***.***-09" in stdlib_line["exception"]


def test_console_output_is_masked_too() -> None:
    stream = _configure(json_output=False)
    get_logger("proxy.test").info(f"cpf {CPF}", email=EMAIL)
    logging.getLogger("httpx").warning("phone %s", PHONE)
    text = stream.getvalue()
    _assert_nothing_personal(text)
    assert "***.***.***-09" in text
    assert "m***@example.com" in text
    assert not text.lstrip().startswith("{")


# --- request id -------------------------------------------------------------------------------


def test_bound_request_id_is_on_every_line(lines: Lines) -> None:
    assert current_request_id() is None
    rid = bind_request_id("req-42")
    assert rid == "req-42" == current_request_id()
    get_logger("proxy.test").info("structlog")
    logging.getLogger("httpx").warning("stdlib")
    assert [line["request_id"] for line in lines()] == ["req-42", "req-42"]


def test_no_request_id_when_none_is_bound(lines: Lines) -> None:
    get_logger("proxy.test").info("outside a request")
    (line,) = lines()
    assert "request_id" not in line


@pytest.mark.parametrize(
    "candidate",
    [None, "", "x" * 65, "has space", 'quote"d', "ação", CPF_DIGITS, "11988056887"],
)
def test_unusable_incoming_request_ids_are_replaced(candidate: str | None) -> None:
    rid = bind_request_id(candidate)
    assert rid != candidate
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert current_request_id() == rid


@pytest.mark.parametrize("candidate", [None, "", "has space", CPF_DIGITS])
def test_made_request_ids_are_random_version_4_uuids(candidate: str | None) -> None:
    made = {bind_request_id(candidate) for _ in range(64)}
    assert len(made) == 64
    for rid in made:
        parsed = uuid.UUID(hex=rid)
        assert (parsed.version, parsed.variant, parsed.hex) == (4, uuid.RFC_4122, rid)


# --- configuration ---------------------------------------------------------------------------


def test_configure_is_idempotent(lines: Lines) -> None:
    settings = LoggingSettings()
    stream = io.StringIO()
    configure_logging(settings, stream=stream)
    configure_logging(settings, stream=stream)
    get_logger("proxy.test").info("once")
    logging.getLogger("httpx").warning("once too")
    assert len(stream.getvalue().splitlines()) == 2
    ours = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    ]
    assert len(ours) == 1
    assert lines() == []  # the earlier stream no longer receives anything


def test_level_filters_both_kinds_of_record(stream: io.StringIO) -> None:
    get_logger("proxy.test").debug("hidden")
    logging.getLogger("proxy.test").debug("hidden too")
    assert stream.getvalue() == ""


def test_per_call_library_chatter_is_quieted_unless_debugging() -> None:
    stream = _configure(level="INFO")
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    assert stream.getvalue() == ""
    stream = _configure(level="DEBUG")
    logging.getLogger("httpx").info("HTTP Request: GET ...")
    assert "HTTP Request" in stream.getvalue()


def test_uvicorn_access_log_is_off_and_its_error_log_reaches_our_handler(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /x?cpf=%s HTTP/1.1" 200', CPF_DIGITS)
    assert stream.getvalue() == ""
    logging.getLogger("uvicorn.error").error("server error")
    assert "server error" in stream.getvalue()


def test_get_logger_masks_even_before_configuration(caplog: pytest.LogCaptureFixture) -> None:
    structlog.reset_defaults()
    with caplog.at_level(logging.WARNING):
        get_logger("proxy.early").warning("early", cpf=CPF)
    assert structlog.is_configured()
    (record,) = caplog.records
    # Whatever handler gets the record (here pytest's) sees the masked event only.
    assert isinstance(record.msg, dict)
    assert record.msg["cpf"] == "***.***.***-09"
    assert CPF not in caplog.text


# --- access line ---------------------------------------------------------------------------------


def test_log_access_writes_one_structured_line(lines: Lines) -> None:
    bind_request_id("req-7")
    log_access(
        "POST",
        "/products/v1/datatrust/{transactionId}/token",
        201,
        1.234567,
        "acme",
        "datatrust",
        operation="dt_token",
        stage="canary:10",
        side="pdt",
        upstream_ms=0.98765,
        request_bytes=120,
        response_bytes=44,
        client="10.0.0.7",
    )
    (line,) = lines()
    assert line == {
        "timestamp": line["timestamp"],
        "level": "info",
        "logger": ACCESS_LOGGER,
        "request_id": "req-7",
        "event": "access",
        "method": "POST",
        "path": "/products/v1/datatrust/{transactionId}/token",
        "status": 201,
        "duration_ms": 1.235,
        "tenant": "acme",
        "product": "datatrust",
        "operation": "dt_token",
        "stage": "canary:10",
        "side": "pdt",
        "upstream_ms": 0.988,
        "request_bytes": 120,
        "response_bytes": 44,
        "client": "10.0.0.7",
    }


def _access(status: int) -> None:
    log_access("GET", "/products/v1/x", status, 1.0, "acme", "datatrust")


@pytest.mark.parametrize(
    ("levels", "written"),
    [
        (["INFO"], 1),
        (["WARNING"], 0),
        (["ERROR"], 0),
        # The level check follows reconfiguration both ways (the stdlib caches it).
        (["WARNING", "INFO"], 1),
        (["INFO", "WARNING"], 0),
    ],
)
def test_access_line_follows_the_configured_level(levels: list[str], written: int) -> None:
    for level in levels:
        stream = _configure(level=level)
        _access(200)
    assert len(stream.getvalue().splitlines()) == written
