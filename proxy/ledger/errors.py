"""The ledger's errors, placed in the proxy's one hierarchy (``proxy.errors``).

``LedgerUnavailable`` is an ``UpstreamUnavailable``: the ledger is a dependency of
every answer, like PDT, and when it cannot record, the legacy client gets the
family's 503 (retry later) instead of an answer nobody could bill.
"""

from __future__ import annotations

from proxy.errors import UpstreamUnavailable

__all__ = ["LedgerUnavailable"]


class LedgerUnavailable(UpstreamUnavailable):
    """The record could not be made durable (store down, timeout, ledger closed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, upstream="ledger", call="record")
