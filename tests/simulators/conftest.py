"""Fixtures: a simulator app per test, a logged-in client on it, the loaded catalogue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.simulators.catalogue import CatalogueEntry, load_catalogue

from .support import CATALOGUE, FakeClock, Pdt, make_app, open_pdt


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def catalogue() -> tuple[CatalogueEntry, ...]:
    return load_catalogue(CATALOGUE)


@pytest.fixture
async def pdt(clock: FakeClock) -> AsyncIterator[Pdt]:
    async with open_pdt(make_app(clock=clock)) as opened:
        yield opened
