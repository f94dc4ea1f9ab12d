"""The one seam between the upstream clients and the network: what a transport is.

``PdtClient`` and ``LegacyClient`` send every request through ``UpstreamTransport.send``
and nothing else. Production uses the aiohttp implementation (``proxy.upstream._aiohttp``)
for real hosts and the in-process one (``proxy.upstream.in_process``) for the built-in
simulators, both behind the origin allowlist (``proxy.upstream.transport``); unit tests
may fake the protocol with httpx under respx (``proxy.upstream.httpx_adapter``).
Every implementation raises only ``proxy.upstream.failures``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = ["SendLimits", "UpstreamAnswer", "UpstreamTransport"]


# eq=False: hashed and compared by identity, so a transport's per-limits cache costs
# one pointer hash per request rather than hashing five fields.
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SendLimits:
    """The bounds of one exchange; clients build one per settings block and reuse it."""

    connect_s: float
    read_s: float
    pool_s: float
    # aiohttp has no write limit of its own: there the attempt's overall timeout
    # (``proxy.upstream.resilience``) bounds a stalled write.
    write_s: float
    max_body_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamAnswer:
    """One upstream answer, read before it is returned: no stream to close."""

    status: int
    # At most ``max_body_bytes + 1`` bytes: the caller's size check still sees an
    # oversized answer as oversized, and no transport buffers more than that.
    body: bytes
    content_type: str | None
    retry_after: str | None


class UpstreamTransport(Protocol):
    """Sends one request and reads its answer, or raises a ``TransportFailure``."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        limits: SendLimits,
    ) -> UpstreamAnswer: ...

    async def aclose(self) -> None: ...
