"""Reading legacy request bodies: size limit, content type, JSON or form decoding.

The body is read incrementally and abandoned as soon as it passes the limit, so a
hostile client cannot make the proxy buffer megabytes. Decoding failures become
``ValidationFailed`` with the product's own "not valid JSON" / "empty body"
messages, as ASP.NET answered them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

from proxy.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from proxy.mapping.error_table import ErrorTable

__all__ = ["check_media_type", "decode_body", "media_type_of", "read_body", "read_json"]

_JSON_TYPES = frozenset({"application/json", "text/json"})
_FORM_TYPE = "application/x-www-form-urlencoded"


def _media_type(request: Request) -> str:
    return media_type_of(request.headers.get("content-type"))


async def read_body(request: Request, *, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge("declared body over the limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("body over the limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _depth_ok(value: Any, limit: int) -> bool:
    """Reject absurd nesting before the schema walks it (orjson allows 1024 levels)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        children: Iterable[Any] = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


async def read_json(
    request: Request, *, limit: int, max_depth: int, errors: ErrorTable, allow_form: bool = False
) -> Any:
    """The decoded body of a JSON (or, where the contract allows, form) request."""
    media_type = _media_type(request)
    check_media_type(media_type, allow_form=allow_form)
    raw = await read_body(request, limit=limit)
    return decode_body(raw, media_type, max_depth=max_depth, errors=errors)


def check_media_type(media_type: str, *, allow_form: bool = False) -> None:
    """Refuse a declared content type the route does not take (no declaration = JSON)."""
    is_form = media_type == _FORM_TYPE
    if media_type and not (
        media_type in _JSON_TYPES or media_type.endswith("+json") or (is_form and allow_form)
    ):
        raise UnsupportedMediaType("content type not accepted by this route")


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(raw: bytes, media_type: str, *, max_depth: int, errors: ErrorTable) -> Any:
    """Bytes already read → the decoded JSON or form; the family's 400 when they are not."""
    is_form = media_type == _FORM_TYPE
    if not raw.strip():
        raise ValidationFailed({"": [errors.fixed_message("empty_body")]})
    if is_form:
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]}) from None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]}) from None
    if isinstance(value, dict | list) and not _depth_ok(value, max_depth):
        raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]})
    return value
