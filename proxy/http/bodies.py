"""Reading legacy request bodies: size limit, content type, JSON or form decoding.

The body is read incrementally and abandoned as soon as it passes the limit, so a
hostile client cannot make the proxy buffer megabytes. Decoding failures become
``ValidationFailed`` with the product's own "not valid JSON" / "empty body"
messages, as ASP.NET answered them. Which media types and charsets are read, and
how, is the product's binding profile (``BodyRules``, from ``product.yaml``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from proxy.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from proxy.mapping.binding_profile import STRICT, BodyRules
from proxy.mapping.error_table import ErrorTable

__all__ = [
    "charset_of",
    "check_media_type",
    "decode_body",
    "decode_request",
    "media_type_of",
    "read_body",
    "read_json",
    "receive_body",
]

_FORM_TYPE = "application/x-www-form-urlencoded"
_UTF8_BOM = b"\xef\xbb\xbf"


async def read_body(request: Request, *, limit: int) -> bytes:
    """A Starlette request's body (the simulators' routes), within ``limit`` bytes."""
    _check_declared(request.headers.get("content-length"), limit)
    return await _collect(request.stream(), limit)


async def receive_body(receive: Receive, *, content_length: str | None, limit: int) -> bytes:
    """The body of a plain ASGI request (the legacy surfaces), within ``limit`` bytes."""
    _check_declared(content_length, limit)
    return await _collect(_chunks(receive), limit)


def _check_declared(content_length: str | None, limit: int) -> None:
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise PayloadTooLarge("declared body over the limit")


async def _chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # As Starlette's stream: a client gone mid-body has no answer to wait for.
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _collect(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    # Abandoned as soon as it passes the limit: a hostile client cannot make the
    # proxy buffer megabytes.
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("body over the limit")
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


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
    request: Request,
    *,
    limit: int,
    max_depth: int,
    errors: ErrorTable,
    allow_form: bool = False,
    rules: BodyRules = STRICT.body,
) -> Any:
    """The decoded body of a JSON (or, where the contract allows, form) request."""
    content_type = request.headers.get("content-type")
    check_media_type(media_type_of(content_type), rules, allow_form=allow_form)
    raw = await read_body(request, limit=limit)
    return decode_body(raw, content_type, rules=rules, max_depth=max_depth, errors=errors)


def decode_request(
    raw: bytes,
    content_type: str | None,
    *,
    rules: BodyRules,
    max_depth: int,
    errors: ErrorTable,
    allow_form: bool = False,
) -> Any:
    """A body already read: its media type checked, then decoded (``decode_body``)."""
    check_media_type(media_type_of(content_type), rules, allow_form=allow_form)
    return decode_body(raw, content_type, rules=rules, max_depth=max_depth, errors=errors)


def check_media_type(media_type: str, rules: BodyRules = STRICT.body, *, allow_form: bool = False) -> None:
    """Refuse a declared content type the backend's formatters did not read (none = JSON).

    Web API 2's JSON formatter took application/json and text/json only, so a
    ``+json`` type or text/plain was its 415; ASP.NET Core's also took
    ``application/*+json``. The product's binding profile lists them.
    """
    if media_type and not (rules.accepts(media_type) or (allow_form and media_type == _FORM_TYPE)):
        raise UnsupportedMediaType("content type not accepted by this route")


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, lower case and unquoted, if any."""
    if not content_type or ";" not in content_type:
        return None
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower() or None
    return None


def _text(raw: bytes, content_type: str | None, rules: BodyRules) -> bytes | str:
    """The JSON text as the backend's reader saw it: bytes for orjson when UTF-8.

    Both readers skipped a UTF-8 byte-order mark (Json.NET through StreamReader's
    BOM detection, System.Text.Json's stream reader explicitly); orjson refuses it.
    """
    charset = charset_of(content_type)
    codec = "utf-8" if charset is None else rules.codec(charset)
    if codec is None:
        raise UnsupportedMediaType("charset not accepted by this route")
    if codec == "utf-16":
        # Encoding.Unicode: little-endian unless a byte-order mark says otherwise.
        big_endian = raw.startswith(b"\xfe\xff")
        try:
            return raw.decode("utf-16-be" if big_endian else "utf-16-le").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ValueError("not UTF-16") from None
    return raw.removeprefix(_UTF8_BOM)


def decode_body(
    raw: bytes,
    content_type: str | None,
    *,
    rules: BodyRules = STRICT.body,
    max_depth: int,
    errors: ErrorTable,
) -> Any:
    """Bytes already read → the decoded JSON or form; the family's 400 when they are not."""
    is_form = media_type_of(content_type) == _FORM_TYPE
    if not raw.strip():
        raise ValidationFailed({"": [errors.fixed_message("empty_body")]})
    if is_form:
        try:
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]}) from None
    try:
        text = _text(raw, content_type, rules)
        value = orjson.loads(text)
    except (orjson.JSONDecodeError, ValueError):
        raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]}) from None
    if isinstance(value, dict | list) and not _depth_ok(value, max_depth):
        raise ValidationFailed({"$": [errors.fixed_message("malformed_json")]})
    return value
