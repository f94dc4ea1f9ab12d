"""The legacy simulator's transactions: owned by the account that made them, bounded in number."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy.perturbation import Perturbation
from proxy.simulators.legacy.sms import SmsReply
from proxy.simulators.profile import PersonProfile
from proxy.simulators.store import Channel, OneTimeToken

__all__ = ["LegacyStore", "LegacyTransaction"]


@dataclass(slots=True)
class LegacyTransaction:
    """One legacy transaction: who asked, about whom, and what happened since."""

    id: str
    product: str
    # Environment and legacy username: PRD and HML were separate hosts with separate data.
    owner: str
    created_at: str
    profile: PersonProfile
    present: frozenset[Entity]
    perturbation: Perturbation | None
    # The client's own reference, echoed back (Data Trust ``identifierId``, FFR ``OrderID``).
    reference: str | None = None
    # Data Trust 2FA codes per channel; a validated SMS code lowers the score.
    tokens: dict[Channel, OneTimeToken] = field(default_factory=dict)
    phone_checked: bool = False
    # Mobile Trust's SMS: when it went out (None = blocked) and how the person answers.
    sms_sent_at: float | None = None
    sms_reply: SmsReply = None


class LegacyStore:
    """Transactions by id; past ``max_transactions`` the oldest is forgotten."""

    def __init__(self, max_transactions: int) -> None:
        if max_transactions < 1:
            raise ValueError("max_transactions must be at least 1")
        self.max_transactions = max_transactions
        self._by_id: OrderedDict[str, LegacyTransaction] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def add(self, transaction: LegacyTransaction) -> None:
        self._by_id[transaction.id] = transaction
        while len(self._by_id) > self.max_transactions:
            self._by_id.popitem(last=False)

    def get(self, transaction_id: str, *, owner: str, product: str) -> LegacyTransaction | None:
        """The transaction, or None when unknown, another account's or another product's."""
        transaction = self._by_id.get(transaction_id)
        if transaction is None or transaction.owner != owner or transaction.product != product:
            return None
        return transaction
