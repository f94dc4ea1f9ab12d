"""Everything one legacy simulator instance holds: accounts, sessions, transactions, vocabulary."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Final

from proxy.mapping.catalog import MappingCatalog
from proxy.simulators.catalogue import CatalogueEntry
from proxy.simulators.legacy.perturbation import Disagreement, Perturbation
from proxy.simulators.legacy.settings import LegacySimulatorSettings
from proxy.simulators.legacy.store import LegacyStore
from proxy.simulators.legacy.vocabulary import Vocabularies
from proxy.simulators.profile import PersonProfile, derive_profile
from proxy.simulators.sessions import Sessions

__all__ = ["LegacySimulator", "grants_from"]

_PROFILE_CACHE_SIZE: Final = 10_000


@dataclass(slots=True)
class LegacySimulator:
    """The state behind one legacy simulator app, reachable as ``app.state.legacy_simulator``."""

    settings: LegacySimulatorSettings
    catalog: MappingCatalog
    vocabularies: Vocabularies
    catalogue: tuple[CatalogueEntry, ...]
    disagreement: Disagreement
    store: LegacyStore
    accounts: dict[str, str]
    # Username -> the products its tokens reach; a username not listed reaches all.
    grants: dict[str, frozenset[str]]
    clock: Callable[[], float]
    # One token space per authentication endpoint (path prefix included): FFR and
    # Mobile Trust share theirs, and PRD and HML were different hosts.
    _sessions: dict[str, Sessions] = field(default_factory=dict, init=False, repr=False)
    _profiles: Callable[[str], PersonProfile] = field(init=False, repr=False)
    _perturbations: Callable[[str], Perturbation | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Deriving a profile costs ~50 keyed hashes; load tests replay a pool of documents.
        self._profiles = lru_cache(maxsize=_PROFILE_CACHE_SIZE)(
            partial(derive_profile, catalogue=self.catalogue)
        )
        self._perturbations = lru_cache(maxsize=_PROFILE_CACHE_SIZE)(self.disagreement.for_person)

    def sessions_for(self, authentication_path: str) -> Sessions:
        sessions = self._sessions.get(authentication_path)
        if sessions is None:
            sessions = Sessions(self.accounts, ttl_s=self.settings.token_ttl_s, clock=self.clock)
            self._sessions[authentication_path] = sessions
        return sessions

    def add_account(self, username: str, password: str, products: Iterable[str] | None = None) -> None:
        """A legacy login; ``products`` limits what its tokens reach (None: every product)."""
        self.accounts[username] = password
        for sessions in self._sessions.values():
            sessions.add_account(username, password)
        if products is None:
            self.grants.pop(username, None)
        else:
            self.grants[username] = frozenset(products)

    def may_use(self, username: str, product: str) -> bool:
        granted = self.grants.get(username)
        return granted is None or product in granted

    def profile_for(self, document: str) -> PersonProfile:
        return self._profiles(document)

    def perturbation_for(self, document: str) -> Perturbation | None:
        return self._perturbations(document)


def grants_from(grants: Mapping[str, Iterable[str]] | None) -> dict[str, frozenset[str]]:
    return {username: frozenset(products) for username, products in (grants or {}).items()}
