"""One answered exchange as a masked corpus entry. Pure: no clock, no file, no key lookup.

The request body and the legacy answer go through ``proxy.privacy.pseudonymise_mapping``
under the same key, so a CPF in the request and its echo in the answer (Mobile
Trust's ``Document``) become the same other valid CPF, and the masked request is
still a valid legacy request. Only the content type is kept of the headers:
``Authorization`` and cookies never reach the entry. A request that held a secret
or a one-time code (a 2FA code to validate) is marked not replayable, since what
is recorded in its place would be refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from proxy.privacy import mask_text, pseudonymise_mapping, secret_fields
from proxy.stages.dispatch import Answer, Exchange
from proxy.state.corpus import CorpusEntry, Method, RecordedBody

__all__ = ["entry_from_exchange", "mask_body", "recordable"]

_JSON_MEDIA_SUFFIX = "json"


def recordable(answer: Answer) -> bool:
    """Only the legacy backend's own answers are corpus material: a PDT answer or an
    error the proxy rendered itself (legacy unreachable) says nothing about legacy."""
    return answer.side == "legacy" and answer.error is None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media.endswith(_JSON_MEDIA_SUFFIX)


def _decode(body: bytes, content_type: str | None) -> tuple[Any, str | None]:
    """(JSON data, None) or (None, text) for a body that is not JSON."""
    if not body.strip():
        return None, None
    if _is_json(content_type) or body.lstrip()[:1] in (b"{", b"["):
        try:
            return orjson.loads(body), None
        except orjson.JSONDecodeError:
            pass
    return None, body.decode("utf-8", errors="replace")


def mask_body(body: bytes, content_type: str | None, *, key: bytes) -> tuple[RecordedBody, bool]:
    """The recorded form of ``body`` and whether it held a secret that was dropped."""
    data, text = _decode(body, content_type)
    if text is not None:
        masked = mask_text(text)
        return RecordedBody(text=masked), masked != text and "***" in masked
    return RecordedBody(data=pseudonymise_mapping(data, key=key)), bool(secret_fields(data))


def entry_from_exchange(exchange: Exchange, answer: Answer, *, key: bytes, now: datetime) -> CorpusEntry:
    request = exchange.request
    request_body, held_secret = mask_body(request.body, request.content_type, key=key)
    response_body, _ = mask_body(answer.body, answer.content_type, key=key)
    method: Method = "GET" if request.method.upper() == "GET" else "POST"
    return CorpusEntry(
        time=now,
        environment=exchange.environment,
        tenant=exchange.tenant.id,
        product=exchange.product.name,
        operation=exchange.operation.name,
        method=method,
        path=mask_text(request.path),
        request_body=request_body,
        status=answer.status,
        response_body=response_body,
        request_content_type=request.content_type,
        response_content_type=answer.content_type,
        query=mask_text(request.query.decode("latin-1")) if request.query else "",
        replayable=not held_secret,
    )
