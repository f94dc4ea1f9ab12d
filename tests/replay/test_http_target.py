"""Replaying against a running proxy (``--target URL``): logged in as a tenant, same paths and
bodies, answers compared the same way. The proxy here runs in process behind an ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import Settings
from proxy.errors import ConfigError
from proxy.replay.session import ReplayOptions, run_replay
from tests.conftest import make_settings
from tests.recording.support import SAMPLE


@asynccontextmanager
async def _proxy(settings: Settings) -> AsyncIterator[httpx.AsyncBaseTransport]:
    app = create_app(settings)
    async with app.lifespan():
        yield httpx.ASGITransport(app=app)


async def test_a_url_target_replays_as_the_tenant(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    options = ReplayOptions(
        target="http://proxy.test", tenant="demo-ffr", username="demo-ffr", password="demo-ffr-secret"
    )
    async with _proxy(settings) as transport:
        report = await run_replay(SAMPLE, settings, options, transport=transport)
    assert report.passed, report.failures
    assert report.replayed == 12


async def test_refused_credentials_stop_the_replay(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    options = ReplayOptions(
        target="http://proxy.test", tenant="demo-ffr", username="demo-ffr", password="wrong"
    )
    async with _proxy(settings) as transport:
        with pytest.raises(ConfigError, match="refused the replay credentials"):
            await run_replay(SAMPLE, settings, options, transport=transport)
