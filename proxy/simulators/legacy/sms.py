"""Mobile Trust's SMS confirmation, as the legacy product ran it.

The legacy product texted the end customer, who could answer "sim" to confirm or
say the transaction was not theirs. The simulator plays that person:

- ``BlockSmsSending: true`` -> ``Blocked``, for good;
- otherwise ``Sent`` on the POST; a later GET shows the reply once
  ``sms_reply_after_s`` have passed, if the person replies at all;
- whether and how they reply is fixed per transaction by a keyed hash: one in five
  never replies (``Expired`` once ``code_ttl_s`` have passed); the others deny with
  probability ``risk_score / 100`` (a risky application is more often someone else
  using the CPF, and its owner says no) and confirm otherwise.
"""

from __future__ import annotations

import hashlib
from typing import Final, Literal

__all__ = ["SmsReply", "SmsStatus", "sms_reply", "sms_status"]

SmsStatus = Literal["Blocked", "Sent", "Confirmed", "Denied", "Expired"]
SmsReply = Literal["Confirmed", "Denied"] | None

_NO_REPLY_SHARE: Final = 0.2
_HASH: Final = hashlib.blake2b(key=b"pdt-proxy/simulator/legacy-sms-reply/v1", digest_size=8)


def _unit(transaction_id: str, label: str) -> float:
    draw = _HASH.copy()
    draw.update(f"{label}\x00{transaction_id}".encode())
    return int.from_bytes(draw.digest(), "big") / 2**64


def sms_reply(transaction_id: str, risk_score: float) -> SmsReply:
    """How the person answers this transaction's SMS (None: they never do)."""
    if _unit(transaction_id, "replies") < _NO_REPLY_SHARE:
        return None
    return "Denied" if _unit(transaction_id, "denies") < risk_score / 100 else "Confirmed"


def sms_status(
    *, sent_at: float | None, reply: SmsReply, now: float, reply_after_s: float, expiry_s: float
) -> SmsStatus:
    """The status a reader sees ``now``; ``sent_at`` None means the client blocked the SMS."""
    if sent_at is None:
        return "Blocked"
    elapsed = now - sent_at
    if reply is not None and reply_after_s < expiry_s and elapsed >= reply_after_s:
        return reply
    return "Expired" if elapsed >= expiry_s else "Sent"
