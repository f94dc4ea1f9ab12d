"""How the PDT simulator writes its answers: orjson bodies, PDT timestamps, PDT error shapes."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "INTERNAL_ERROR",
    "PdtAnswer",
    "iso_timestamp",
    "json_response",
    "message_body",
    "problem_body",
    "render_answer",
]

INTERNAL_ERROR: Final = "An error has occurred."
# ASP.NET's ProblemDetails for a 400 (reconstructed: the sibling products API's shape).
_PROBLEM_TYPE: Final = "https://tools.ietf.org/html/rfc9110#section-15.5.1"
_PROBLEM_TITLE: Final = "One or more validation errors occurred."


def iso_timestamp(epoch_seconds: float) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as PDT writes ``createdAt``."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def message_body(message: str) -> dict[str, str]:
    return {"message": message}


def problem_body(errors: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    return {
        "type": _PROBLEM_TYPE,
        "title": _PROBLEM_TITLE,
        "status": 400,
        "errors": {field: list(messages) for field, messages in errors.items()},
        # W3C traceparent form, which is what ASP.NET puts in traceId.
        "traceId": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
    }


class PdtAnswer(Exception):
    """An error answer raised from inside a handler; the app renders it as JSON."""

    def __init__(self, status: int, body: Mapping[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body

    @classmethod
    def message(cls, status: int, message: str) -> PdtAnswer:
        return cls(status, message_body(message))

    @classmethod
    def invalid(cls, errors: Mapping[str, Sequence[str]]) -> PdtAnswer:
        return cls(400, problem_body(errors))


def render_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PdtAnswer)
    return json_response(exc.body, exc.status)
