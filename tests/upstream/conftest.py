from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import respx

from proxy.upstream import PdtClient
from tests.upstream.support import pdt_client, pdt_router


@pytest.fixture
def router() -> respx.Router:
    return pdt_router()


@pytest.fixture
async def pdt(router: respx.Router) -> AsyncIterator[PdtClient]:
    async with pdt_client(router) as client:
        yield client
