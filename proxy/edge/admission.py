"""Bounded concurrency: past ``max_in_flight`` legacy requests, the family's 503 at once.

A saturated event loop answers everything late; answering the excess immediately
keeps the admitted requests fast and tells the client's retry logic the truth. Only
legacy paths are counted and refused: ``/healthz``, ``/readyz``, ``/metrics`` and the
admin API keep answering so operators can see what is happening.

Pure ASGI, outside every other layer, so a refused request costs a prefix check and
a canned body, not a route match.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from proxy.http.errors import JSON_MEDIA_TYPE, ErrorFamilies
from proxy.mapping.error_table import ErrorTable
from proxy.observability.metrics import Metrics

__all__ = ["AdmissionControl"]

_CONTENT_TYPE = JSON_MEDIA_TYPE.encode()


class AdmissionControl:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        families: ErrorFamilies,
        metrics: Metrics,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self._families = families
        self._metrics = metrics
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        table = self._families.for_path(scope["path"])
        if table is None:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            await self._refuse(table, send)
            return
        self.in_flight += 1
        self._metrics.request_started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._metrics.request_finished()

    async def _refuse(self, table: ErrorTable, send: Send) -> None:
        self._metrics.count_shed(tenant="-", product="-", reason="overloaded")
        status, body = table.render("overloaded")
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", _CONTENT_TYPE),
                    (b"content-length", str(len(body)).encode()),
                    # The excess is momentary: a second later there is room again.
                    (b"retry-after", b"1"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
