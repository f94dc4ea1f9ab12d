"""The state store as the shadow runner's sink (``proxy.stages.shadow.ShadowSink``)."""

from __future__ import annotations

from collections.abc import Sequence

from proxy.state.records import ShadowResult
from proxy.state.store import StateStore

__all__ = ["StoreShadowSink"]


class StoreShadowSink:
    """Saves each batch the runner hands over in one store transaction."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def save(self, results: Sequence[ShadowResult]) -> None:
        await self._store.save_shadow(results)
