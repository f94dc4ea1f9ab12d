"""One-time codes for the e-mail and SMS token modules.

The simulator sends nothing: the code a person "receives" is a keyed hash of the
transaction and channel, so a test or a load script can compute it with
``token_code`` (or read it from the simulator-only route) and play the person.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from proxy.simulators.store import Channel, OneTimeToken, TokenStatus

__all__ = ["DEFAULT_CODE_TTL_S", "check_code", "current_status", "parse_channel", "token_code"]

# PDT's code lifetime is not public; five minutes is the usual for SMS codes.
DEFAULT_CODE_TTL_S: Final = 300.0
_CODE_KEY: Final = b"pdt-proxy/simulator/one-time-code/v1"
_CHANNELS: Final[dict[str, Channel]] = {"sms": "Sms", "email": "Email", "emails": "Email"}


def parse_channel(text: str) -> Channel | None:
    """``Sms``/``Email`` from a path segment or a name, in any case (``emails`` as in PDT's path)."""
    return _CHANNELS.get(text.lower())


def token_code(transaction_id: str, channel: str) -> str:
    """The six-digit code sent for ``transaction_id`` on ``channel`` (``sms`` or ``email``)."""
    canonical = parse_channel(channel)
    if canonical is None:
        raise ValueError(f"unknown token channel {channel!r}")
    digest = hashlib.blake2b(f"{canonical}\x00{transaction_id}".encode(), key=_CODE_KEY, digest_size=8)
    return f"{int.from_bytes(digest.digest(), 'big') % 1_000_000:06d}"


def check_code(
    token: OneTimeToken, transaction_id: str, given: str, *, now: float, ttl_s: float
) -> TokenStatus:
    """Record one validation attempt on ``token`` and return its new status.

    A token that was already validated stays valid for the right code; a wrong code
    does not burn the token, so the person may try again until it expires.
    """
    matches = hmac.compare_digest(token_code(transaction_id, token.channel).encode(), given.encode())
    if token.status == "Valid":
        return "Valid" if matches else "Invalid"
    if now - token.sent_at > ttl_s:
        token.status = "Expired"
    elif matches:
        token.status = "Valid"
    else:
        token.status = "Invalid"
    return token.status


def current_status(token: OneTimeToken, *, now: float, ttl_s: float) -> TokenStatus:
    """The status a reader sees now: a code nobody validated in time has expired."""
    if token.status == "Waiting" and now - token.sent_at > ttl_s:
        return "Expired"
    return token.status
