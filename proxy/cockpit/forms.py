"""The cockpit's forms, read without a multipart library: they are all URL-encoded and small.

Browsers send ``application/x-www-form-urlencoded`` for every form these pages
have; anything else, anything larger than a few kilobytes, or more fields than any
form has, is refused rather than parsed.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["FormRefused", "read_form"]

MAX_FORM_BYTES: Final = 4096
_MAX_FIELDS: Final = 10


class FormRefused(ValueError):
    """Why a form was not read (shown to the person, never a trace)."""


def parse_form(body: bytes) -> dict[str, str]:
    """The form's fields; the first value wins when one repeats. Pure."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:
        raise FormRefused("too many fields") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


async def read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise FormRefused("not a form")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormRefused("too large")
    return parse_form(body)
