"""What the edge says about each answered legacy request: the access line and the span.

The handler builds one ``AccessEntry`` at the end of a request and hands it to
``record_access``, which writes the access log line and, when tracing is on, names and
annotates the request's span from the same values, so the two never disagree.

The client address is the TCP peer from the ASGI scope. ``X-Forwarded-For`` is not
read: the proxy has no trusted-proxy setting, and an address any client can write is
not worth logging. Behind a load balancer, run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` so the scope's peer is the real client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from starlette.types import Scope

from proxy.observability import tracing
from proxy.observability.logging import log_access

__all__ = ["NO_VALUE", "AccessEntry", "client_address", "record_access"]

NO_VALUE: Final = "-"


def client_address(scope: Scope) -> str:
    """The peer's IP address (no port: it says nothing and multiplies distinct values)."""
    client = scope.get("client")
    if not client:
        return NO_VALUE
    host = client[0]
    return str(host) if host else NO_VALUE


@dataclass(frozen=True, slots=True)
class AccessEntry:
    method: str
    route: str  # the route template, never the URL
    status: int
    duration_ms: float
    tenant: str
    product: str
    operation: str
    stage: str
    side: str
    # Time the answering side took (upstream calls, retries, and PDT mapping); None when
    # no side was asked (refused before dispatch).
    upstream_ms: float | None
    request_bytes: int
    response_bytes: int
    client: str
    request_id: str


def record_access(entry: AccessEntry) -> None:
    log_access(
        entry.method,
        entry.route,
        entry.status,
        entry.duration_ms,
        entry.tenant,
        entry.product,
        operation=entry.operation,
        stage=entry.stage,
        side=entry.side,
        upstream_ms=entry.upstream_ms,
        request_bytes=entry.request_bytes,
        response_bytes=entry.response_bytes,
        client=entry.client,
    )
    if tracing.STATE.tracer is not None:
        tracing.annotate_request(
            tracing.RequestSummary(
                product=entry.product,
                operation=entry.operation,
                route=entry.route,
                tenant=entry.tenant,
                stage=entry.stage,
                side=entry.side,
                status=entry.status,
                request_id=entry.request_id,
                upstream_ms=entry.upstream_ms,
            )
        )
