"""Exceptions → legacy error answers: the one place this happens.

Every route handler funnels its exceptions here. A ``ProxyError`` becomes its
kind's entry in the product family's error table; anything else is a bug, logged
with its traceback server-side and answered with the family's generic error body,
so no stack trace, upstream body or internal name ever reaches a legacy client.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from starlette.responses import Response

from proxy.errors import ProxyError, RateLimited, ValidationFailed
from proxy.http.reply import Reply
from proxy.mapping.catalog import Product
from proxy.mapping.error_table import ErrorTable

__all__ = ["JSON_MEDIA_TYPE", "ErrorFamilies", "error_reply", "error_response"]

JSON_MEDIA_TYPE: Final = "application/json; charset=utf-8"
_JSON_MEDIA_TYPE_BYTES: Final = JSON_MEDIA_TYPE.encode()


def error_reply(table: ErrorTable, error: BaseException, *, request_id: str) -> Reply:
    """The family's answer for ``error``, ready to send."""
    status, body, headers = _rendered(table, error, request_id=request_id)
    return Reply(
        status=status,
        body=body,
        headers=(
            *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
            (b"content-type", _JSON_MEDIA_TYPE_BYTES),
        ),
    )


def error_response(table: ErrorTable, error: BaseException, *, request_id: str) -> Response:
    """The same answer as a Starlette response (the simulators' routes)."""
    status, body, headers = _rendered(table, error, request_id=request_id)
    return Response(body, status, headers=headers, media_type=JSON_MEDIA_TYPE)


def _rendered(
    table: ErrorTable, error: BaseException, *, request_id: str
) -> tuple[int, bytes, dict[str, str]]:
    kind = error.kind if isinstance(error, ProxyError) else ProxyError.kind
    field_errors = error.field_errors if isinstance(error, ValidationFailed) else None
    status, body = table.render(kind, trace_id=request_id, field_errors=field_errors)
    headers = {"x-request-id": request_id}
    if isinstance(error, RateLimited):
        # Whole seconds, rounded up: a client that waits exactly this long gets a token.
        headers["retry-after"] = str(max(1, math.ceil(error.retry_after_s)))
    return status, body, headers


class ErrorFamilies:
    """The error table of the product family a path belongs to, by its legacy prefix.

    For answers given before (or instead of) a legacy route: an unknown path under
    a product's prefix, a saturated worker. A product whose routing ignored case
    (ASP.NET's did) claims its prefix in any letter case.
    """

    def __init__(self, products: Iterable[Product]) -> None:
        # Longest prefix first, so a family is never taken for one whose prefix is shorter.
        entries = [
            (prefix.lower() if product.binding.routing.ignore_case else prefix, product)
            for product in products
            for prefix in product.spec.prefixes.values()
        ]
        self._prefixes = tuple(
            (prefix, prefix + "/", product.binding.routing.ignore_case, product.errors)
            for prefix, product in sorted(entries, key=lambda pair: -len(pair[0]))
        )

    def for_path(self, path: str) -> ErrorTable | None:
        lowered = path.lower()
        for prefix, under, ignore_case, table in self._prefixes:
            candidate = lowered if ignore_case else path
            if candidate.startswith(under) or candidate == prefix:
                return table
        return None
