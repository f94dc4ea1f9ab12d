"""Caller-supplied path segments, checked before they become part of a PDT URL."""

from __future__ import annotations

import re

from proxy.errors import NotFound

__all__ = ["safe_segment"]

# PDT ids are GUIDs and pack names are short slugs. Starting with a letter or digit
# rules out "." and ".."; the character set leaves nothing that could end the path
# segment or the path ("/", "?", "#", "%", whitespace, controls).
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")


def safe_segment(value: str, what: str) -> str:
    """``value`` unchanged when it can only ever be one path segment, else ``NotFound``.

    No percent-encoding is attempted: an id PDT could have issued never needs it, so
    anything that would is an id PDT does not know.
    """
    if _SAFE_SEGMENT.fullmatch(value) is None:
        raise NotFound(f"no such {what}")
    return value
