"""Fixtures shared by the whole suite: settings on a temporary data dir, and a
running proxy app (lifespan included) reached in process through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import Settings, load_settings

# The session-wide scan of every log line for personal data in clear (see the module).
pytest_plugins = ["tests.pii_scan"]

ProxyFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    settings = load_settings(environ={})
    return settings.model_copy(update={"data_dir": tmp_path / "data", **overrides})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@asynccontextmanager
async def running_proxy(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, transport=transport)
    async with app.lifespan():
        client_transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=client_transport, base_url="http://proxy.test") as client:
            yield client


@pytest.fixture
async def proxy(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The proxy on its embedded defaults: demo tenants, built-in PDT simulator."""
    async with running_proxy(settings) as client:
        yield client


@pytest.fixture
def proxy_factory() -> ProxyFactory:
    return running_proxy
