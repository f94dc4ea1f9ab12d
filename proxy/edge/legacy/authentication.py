"""The legacy login endpoints: the proxy checks the tenant's credentials and issues its own token.

FFR and Mobile Trust share one endpoint: its token names every product of the
endpoint the tenant has bought. The answer's shape (field names, expiry as seconds
or as a wall-clock time) is the family's, declared in its ``product.yaml``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.types import Receive

from proxy.edge.legacy.deps import LegacyDeps
from proxy.edge.legacy.request import RequestHeaders
from proxy.edge.legacy.router import AuthTarget
from proxy.errors import BadCredentials, ProxyError
from proxy.http.bodies import check_media_type, decode_body, media_type_of, receive_body
from proxy.http.errors import JSON_MEDIA_TYPE, error_reply
from proxy.http.reply import Reply, json_reply
from proxy.mapping.spec import ExpirySpec
from proxy.observability.logging import get_logger
from proxy.tenants import TenantDirectory

__all__ = ["authenticate", "expiry_value"]

_log = get_logger(__name__)
_FORM = "form"


def expiry_value(expiry: ExpirySpec, expires_at: int, ttl_s: int) -> Any:
    if expiry.style == "seconds":
        return ttl_s
    # The older v1 family answered a wall-clock time without offset, in the zone
    # its servers ran in; the mapping declares that zone (the proxy runs in UTC).
    zone = ZoneInfo(expiry.timezone or "UTC")
    return datetime.fromtimestamp(expires_at, zone).strftime("%Y-%m-%dT%H:%M:%S")


async def authenticate(
    deps: LegacyDeps,
    tenants: TenantDirectory,
    target: AuthTarget,
    *,
    headers: RequestHeaders,
    receive: Receive,
    address: str,
    request_id: str,
) -> Reply:
    product = target.product
    auth = product.authentication
    spec = auth.spec
    rules = product.binding.body
    try:
        # The media type before the body: a 415 costs no read.
        check_media_type(media_type_of(headers.content_type), rules, allow_form=_FORM in spec.encodings)
        raw = await receive_body(receive, content_length=headers.content_length, limit=deps.max_body_bytes)
        body = decode_body(
            raw, headers.content_type, rules=rules, max_depth=deps.max_json_depth, errors=product.errors
        )
        fields = auth.gate.parse(body)
        tenant = await deps.logins.authenticate(
            tenants,
            fields[spec.username],
            fields[spec.password],
            # What uvicorn reports: the peer, or X-Forwarded-For from a trusted
            # proxy (FORWARDED_ALLOW_IPS).
            address=address,
            product=product.name,
        )
        granted = target.products & tenant.products
        if not granted:
            raise BadCredentials("tenant has none of the products of this endpoint")
        # The family's declared lifetime (product.yaml, with its evidence) unless overridden.
        ttl_s = deps.token_ttl_s or spec.token_lifetime.seconds
        token, expires_at = deps.tokens.issue(
            tenant_id=tenant.id,
            username=fields[spec.username],
            environment=target.environment,
            products=granted,
            ttl_s=ttl_s,
        )
        answer = {
            spec.response.token: token,
            spec.response.expiry.field: expiry_value(spec.response.expiry, expires_at, ttl_s),
        }
        return json_reply(200, orjson.dumps(answer), request_id=request_id, content_type=JSON_MEDIA_TYPE)
    except ProxyError as error:
        return error_reply(product.errors, error, request_id=request_id)
    except Exception:
        _log.exception("authentication failed unexpectedly", request_id=request_id, product=product.name)
        return error_reply(product.errors, RuntimeError(), request_id=request_id)
