"""Shared pieces of the upstream tests: a settable clock, settings, and a PDT mock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import respx

from proxy.config import PdtEnvironment, PdtSettings, TimeoutSettings
from proxy.deadline import Deadline
from proxy.upstream import PdtCall, PdtClient, PdtCredential

BASE = "https://pdt.test"
TX = "6f1c2a7e-0d7b-4f1e-9a55-3c1c4b7e2a10"
CREDENTIAL = PdtCredential(environment="prd", username="acme", password="pw-Secret-77")


class FakeClock:
    """Monotonic time that only moves when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pdt_settings(*, read_s: float = 5.0, refresh_margin_s: float = 60.0) -> PdtSettings:
    return PdtSettings(
        environments={
            "prd": PdtEnvironment(base_url=BASE),
            "hml": PdtEnvironment(base_url="https://hml.pdt.test"),
        },
        timeouts=TimeoutSettings(read_s=read_s),
        token_refresh_margin_s=refresh_margin_s,
    )


def a_call(
    *, seconds: float = 30.0, request_id: str | None = None, clock: Callable[[], float] | None = None
) -> PdtCall:
    deadline = Deadline(seconds) if clock is None else Deadline(seconds, clock=clock)
    return PdtCall(CREDENTIAL, deadline, request_id)


def token_answer(value: str = "tok-1", expires_in: Any = 7200) -> httpx.Response:
    return httpx.Response(200, json={"token": value, "expiresInSeconds": expires_in})


def pdt_router() -> respx.Router:
    """A mock PDT that authenticates anyone and refuses any request it has no route for."""
    router = respx.Router(base_url=BASE, assert_all_called=False)
    router.post("/v1/authentication", name="auth").mock(return_value=token_answer())
    return router


@asynccontextmanager
async def pdt_client(
    router: respx.Router, *, settings: PdtSettings | None = None, clock: Callable[[], float] | None = None
) -> AsyncIterator[PdtClient]:
    transport = httpx.MockTransport(router.async_handler)
    client = PdtClient(transport, settings or pdt_settings(), clock=clock or FakeClock())
    try:
        yield client
    finally:
        await client.aclose()
        await transport.aclose()
