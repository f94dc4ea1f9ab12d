"""Everything one PDT simulator instance holds: accounts, sessions, transactions, catalogue."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Final

from proxy.config import SimulatorSettings
from proxy.simulators.catalogue import CatalogueEntry
from proxy.simulators.otp import token_code
from proxy.simulators.profile import PersonProfile, derive_profile
from proxy.simulators.results import Module
from proxy.simulators.sessions import Sessions
from proxy.simulators.store import TransactionStore
from proxy.simulators.validation import BodyValidator

__all__ = ["PdtSimulator", "Validators"]

_PROFILE_CACHE_SIZE: Final = 10_000


@dataclass(frozen=True, slots=True)
class Validators:
    authentication: BodyValidator
    transaction: BodyValidator
    complements: BodyValidator
    token_validation: BodyValidator


@dataclass(slots=True)
class PdtSimulator:
    """The state behind one simulator app, reachable as ``app.state.simulator``."""

    settings: SimulatorSettings
    catalogue: tuple[CatalogueEntry, ...]
    sessions: Sessions
    store: TransactionStore
    validators: Validators
    packs: Mapping[str, frozenset[Module]]
    code_ttl_s: float
    clock: Callable[[], float]
    rng: random.Random
    # Deriving a profile costs ~50 keyed hashes; load tests replay a pool of documents.
    _profiles: Callable[[str], PersonProfile] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        derive = partial(derive_profile, catalogue=self.catalogue)
        self._profiles = lru_cache(maxsize=_PROFILE_CACHE_SIZE)(derive)

    @property
    def accounts(self) -> Mapping[str, str]:
        return self.sessions.accounts

    def add_account(self, username: str, password: str) -> None:
        self.sessions.add_account(username, password)

    def profile_for(self, document: str) -> PersonProfile:
        return self._profiles(document)

    @staticmethod
    def token_code(transaction_id: str, channel: str) -> str:
        return token_code(transaction_id, channel)
