"""The simulator's transactions: owned by the PDT account that created them, bounded in number."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from proxy.simulators.profile import PersonProfile
from proxy.simulators.results import Module

__all__ = [
    "DEFAULT_MAX_TRANSACTIONS",
    "Channel",
    "OneTimeToken",
    "StoredTransaction",
    "TokenStatus",
    "TransactionStore",
]

# Enough for a long benchmark's working set; a transaction costs a few KiB.
DEFAULT_MAX_TRANSACTIONS: Final = 100_000

Channel = Literal["Sms", "Email"]
TokenStatus = Literal["Waiting", "Valid", "Invalid", "Expired"]


@dataclass(slots=True)
class OneTimeToken:
    channel: Channel
    sent_at: float
    created_at: str
    status: TokenStatus = "Waiting"


@dataclass(slots=True)
class StoredTransaction:
    """One transaction and the results of the modules requested on it, in wire form."""

    owner: str
    body: dict[str, Any]
    profile: PersonProfile
    # A module never requested has no key: PDT answers 404 / leaves it out of ``all``.
    results: dict[Module, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[Channel, OneTimeToken] = field(default_factory=dict)
    pack: str | None = None
    pack_created_at: str | None = None

    @property
    def id(self) -> str:
        transaction_id: str = self.body["id"]
        return transaction_id


class TransactionStore:
    """Transactions by id; past ``max_transactions`` the oldest is forgotten."""

    def __init__(self, max_transactions: int = DEFAULT_MAX_TRANSACTIONS) -> None:
        if max_transactions < 1:
            raise ValueError("max_transactions must be at least 1")
        self.max_transactions = max_transactions
        self._by_id: OrderedDict[str, StoredTransaction] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, transaction: StoredTransaction) -> None:
        self._by_id[transaction.id] = transaction
        while len(self._by_id) > self.max_transactions:
            self._by_id.popitem(last=False)

    def get(self, transaction_id: str, owner: str) -> StoredTransaction | None:
        """The transaction, or None when it is unknown or another account's (tenant isolation)."""
        transaction = self._by_id.get(transaction_id)
        if transaction is None or transaction.owner != owner:
            return None
        return transaction
