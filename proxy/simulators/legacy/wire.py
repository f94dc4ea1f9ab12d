"""How the legacy simulator writes its answers: orjson bodies and each family's error table."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import orjson
from starlette.responses import Response

from proxy.http.errors import error_response
from proxy.mapping.error_table import ErrorTable
from proxy.mapping.spec import ExpirySpec

__all__ = ["JSON_MEDIA_TYPE", "error_answer", "expiry_value", "json_response", "trace_id"]

JSON_MEDIA_TYPE: Final = "application/json; charset=utf-8"


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON_MEDIA_TYPE)


def trace_id() -> str:
    """A W3C traceparent, which is what ASP.NET writes in ``traceId``."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def error_answer(table: ErrorTable, error: BaseException) -> Response:
    """The family's body for ``error`` (anything not a ProxyError is its generic 500)."""
    return error_response(table, error, request_id=trace_id())


def expiry_value(expiry: ExpirySpec, *, now: float, ttl_s: int) -> Any:
    """A token's expiry as the authentication answer declares it: seconds, or a local time."""
    if expiry.style == "seconds":
        return ttl_s
    # The older v1 family answered a wall-clock time without offset, in its servers' zone.
    zone = ZoneInfo(expiry.timezone or "UTC")
    return datetime.fromtimestamp(now + ttl_s, zone).strftime("%Y-%m-%dT%H:%M:%S")
