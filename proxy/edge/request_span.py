"""One OpenTelemetry SERVER span around each legacy request (installed only when tracing is on).

Outermost, outside admission control, so a request refused for saturation is traced
too (its 503 is the span's status). The span is opened here with what is known before
routing (the method) and named and annotated by the access observer
(``proxy.observability.access``) once the handler knows product, operation, tenant,
stage and side; upstream attempts started inside it become its children through the
context. Its initial name is generic on purpose: the raw path can hold a transaction id.

Non-legacy paths (``/healthz``, ``/metrics``, the admin API) are not traced: probes and
scrapes would drown the requests that matter.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from proxy.http.errors import ErrorFamilies
from proxy.observability import tracing

__all__ = ["RequestSpans"]


class RequestSpans:
    def __init__(self, app: ASGIApp, *, families: ErrorFamilies, tracer: Tracer) -> None:
        self.app = app
        self._families = families
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._families.for_path(scope["path"]) is None:
            await self.app(scope, receive, send)
            return
        with self._tracer.start_as_current_span(
            "legacy request",
            context=tracing.parent_context(scope.get("headers", [])),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": scope["method"]},
        ) as span:

            async def send_and_note(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    # The status as sent, also for answers the handler never saw (a 503
                    # from admission control, a 404 or 405 from the router).
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, f"answered {status}"))
                await send(message)

            token = tracing.bind_request_span(span)
            try:
                await self.app(scope, receive, send_and_note)
            finally:
                tracing.reset_request_span(token)
