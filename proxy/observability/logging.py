"""JSON logs, one object per line, masked in one place.

Every record, from structlog (``get_logger``) or from the standard library
(uvicorn, httpx, aiohttp), ends in the same handler on the root logger and is
rendered by the same formatter::

    structlog call ─► _STRUCTLOG_CHAIN ─┐
                                        ├─► root handler ─► ProcessorFormatter ─► JSON / console
    stdlib record  ─► _FOREIGN_CHAIN ───┘

Both chains end with ``_mask_event`` (the redaction point: ``privacy.mask_mapping``
over the whole event, dropping credential headers), so a record is masked exactly
once, whichever way it came. The formatter only removes structlog's bookkeeping
keys and renders.

uvicorn's access logger is switched off: it prints raw paths and query strings. The
edge writes its own access line with ``log_access`` and a path *template*. Run
uvicorn with ``UVICORN_LOG_OPTIONS`` so it does not install handlers of its own.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Final, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from proxy import privacy
from proxy.config import LoggingSettings

__all__ = [
    "ACCESS_LOGGER",
    "DROPPED_KEYS",
    "UVICORN_LOG_OPTIONS",
    "bind_request_id",
    "configure_logging",
    "current_request_id",
    "get_logger",
    "log_access",
    "reset_request_id",
]

ACCESS_LOGGER: Final = "pdt_proxy.access"

# Credentials are dropped, not starred: even their length says something.
DROPPED_KEYS: Final = frozenset({"authorization", "cookie", "set-cookie", "x-api-key"})

# For ``uvicorn.run(..., **UVICORN_LOG_OPTIONS)``: no dictConfig of uvicorn's own
# (its records propagate to our root handler) and no access log (raw query strings).
UVICORN_LOG_OPTIONS: Final[Mapping[str, Any]] = {"log_config": None, "access_log": False}

# Libraries that log one INFO line per upstream call; at thousands of calls per
# second that is most of the log volume and CPU, and the metrics already count them.
_CHATTY_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "aiohttp.client")

_REQUEST_ID: ContextVar[str | None] = ContextVar("pdt_proxy_request_id", default=None)
# What an incoming X-Request-Id may look like; anything else could carry data or
# break log parsing, and is replaced by a fresh id.
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)

# Marks the handler this module installs, so reconfiguring replaces it.
_HANDLER_MARK = "_pdt_proxy_handler"
_STRUCTLOG_META = ("_record", "_from_structlog")
# Values this module writes itself, already safe: they are not masked (a uuid's hex
# can hold an 11-digit run that looks like a mobile phone) and lead each line.
_OWN_KEYS = ("timestamp", "level", "logger", "request_id")


# --- request id ----------------------------------------------------------------------


def bind_request_id(candidate: str | None = None) -> str:
    """Bind the request id for the current context and return it.

    ``candidate`` (an incoming ``X-Request-Id``) is kept when well-formed, else a
    new id is made. Each ASGI request runs in its own context, and tasks spawned
    from it copy it, so every line they log carries the id; long-lived workers
    (the shadow runner) bind the id of the request each job belongs to.
    """
    if candidate and _REQUEST_ID_SHAPE.fullmatch(candidate) and privacy.mask_text(candidate) == candidate:
        rid = candidate
    else:
        rid = _new_request_id()
    _REQUEST_ID.set(rid)
    return rid


def _new_request_id() -> str:
    """A random version-4 UUID in hex, as ``uuid.uuid4().hex`` writes it.

    Built from the bytes directly: ``uuid.UUID`` validates and converts through an
    int, several times the cost of the 16 random bytes, once per request.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def reset_request_id() -> None:
    """Forget the bound request id (for code that reuses one context across requests)."""
    _REQUEST_ID.set(None)


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


# --- processors ----------------------------------------------------------------------


def _add_request_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    rid = _REQUEST_ID.get()
    if rid is not None:
        event_dict.setdefault("request_id", rid)
    return event_dict


def _mask_event(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The redaction point for every log line (see ``proxy.privacy``)."""
    own = {key: event_dict.pop(key) for key in _OWN_KEYS if key in event_dict}
    meta = {key: event_dict.pop(key) for key in _STRUCTLOG_META if key in event_dict}
    masked: dict[str, Any] = privacy.mask_mapping(event_dict, drop=DROPPED_KEYS)
    # The message right after the fixed keys: lines read left to right.
    head = {"event": masked.pop("event")} if "event" in masked else {}
    return {**own, **head, **masked, **meta}


_TIMESTAMPER = structlog.processors.TimeStamper(fmt="iso", utc=True)

# Tracebacks are rendered to text *before* masking (format_exc_info): exception
# messages and reprs of requests hold URLs and values.
_STRUCTLOG_CHAIN: Final[list[Processor]] = [
    structlog.stdlib.filter_by_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.PositionalArgumentsFormatter(),
    _TIMESTAMPER,
    _add_request_id,
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
    _mask_event,
    structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
]

_FOREIGN_CHAIN: Final[list[Processor]] = [
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    _TIMESTAMPER,
    _add_request_id,
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
    _mask_event,
]


def _render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> str:
    # After masking every value is JSON-native; default=str is for what orjson
    # still refuses (integers over 64 bits).
    try:
        return orjson.dumps(event_dict, default=str).decode("utf-8")
    except orjson.JSONEncodeError:
        return orjson.dumps({key: str(value) for key, value in event_dict.items()}).decode("utf-8")


def _renderer(json_output: bool, stream: TextIO) -> Processor:
    if json_output:
        return _render_json
    isatty = getattr(stream, "isatty", None)
    return structlog.dev.ConsoleRenderer(colors=bool(isatty and isatty()))


# --- configuration -------------------------------------------------------------------


def _configure_structlog() -> None:
    structlog.configure(
        processors=_STRUCTLOG_CHAIN,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # The chain does not depend on settings (those live in the handler), so a
        # logger cached on first use stays right after reconfiguration.
        cache_logger_on_first_use=True,
    )


def configure_logging(settings: LoggingSettings, *, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one masked handler on ``stream``.

    Idempotent: a second call replaces the handler installed by the first.
    ``stream`` defaults to standard output, where container runtimes collect logs.
    """
    _configure_structlog()
    out = stream if stream is not None else sys.stdout
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_FOREIGN_CHAIN,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _renderer(settings.json_output, out),
            ],
        )
    )
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(settings.level)

    for name in ("uvicorn", "uvicorn.error"):
        # Whatever uvicorn installed would print unmasked; let records reach root.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True

    chatty_level = logging.DEBUG if settings.level == "DEBUG" else logging.WARNING
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty_level)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger; its lines are masked even before ``configure_logging`` runs."""
    if not structlog.is_configured():
        # Without this, structlog's default chain would print unmasked values.
        _configure_structlog()
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


@functools.cache
def _access_logger() -> structlog.stdlib.BoundLogger:
    return get_logger(ACCESS_LOGGER)


# The stdlib logger behind the access line: asked first whether INFO is on, the
# question structlog's filter_by_level asks too, but only after building the event
# and unwinding a DropEvent (most of the line's cost when it is filtered out).
_ACCESS_LEVEL_CHECK = logging.getLogger(ACCESS_LOGGER)


def log_access(
    method: str,
    path_template: str,
    status: int,
    duration_ms: float,
    tenant: str | None,
    product: str | None,
    *,
    operation: str | None = None,
    stage: str | None = None,
    side: str | None = None,
    upstream_ms: float | None = None,
    request_bytes: int | None = None,
    response_bytes: int | None = None,
    client: str | None = None,
) -> None:
    """One access line per legacy request; the path is the route template, not the URL.

    ``side`` is who answered (``pdt`` or ``legacy``), ``upstream_ms`` the time that side
    took, ``client`` the peer address (see ``proxy.observability.access``).
    """
    if not _ACCESS_LEVEL_CHECK.isEnabledFor(logging.INFO):
        return
    _access_logger().info(
        "access",
        method=method,
        path=path_template,
        status=status,
        duration_ms=round(duration_ms, 3),
        tenant=tenant,
        product=product,
        operation=operation,
        stage=stage,
        side=side,
        upstream_ms=None if upstream_ms is None else round(upstream_ms, 3),
        request_bytes=request_bytes,
        response_bytes=response_bytes,
        client=client,
    )
