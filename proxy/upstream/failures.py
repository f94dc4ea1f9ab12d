"""The proxy's own transport failures: what every upstream transport raises, and nothing else.

Each upstream transport (aiohttp on real sockets, the in-process simulators, the
httpx adapter of the unit tests) translates its library's exceptions into these,
so the retry rules, the breaker and the error boundary of the clients read one
tree whichever transport sent the request. The distinctions are the ones those
readers act on: a failure before the request left may be repeated even for a
POST (``ConnectFailed``, ``ConnectTimedOut``, ``PoolTimedOut``), a timeout is
answered differently from an outage, and an answer that cannot be decoded is a
broken answer rather than a missing one.

Messages name the library's exception class only: library messages can carry the URL.
"""

from __future__ import annotations

__all__ = [
    "ConnectFailed",
    "ConnectTimedOut",
    "ConnectionLost",
    "PoolTimedOut",
    "ProtocolFailed",
    "ReadTimedOut",
    "TimedOut",
    "TlsFailed",
    "TransportFailure",
    "UndecodableAnswer",
]


class TransportFailure(Exception):
    """No usable answer came back from the upstream host."""


class TimedOut(TransportFailure):
    """A transport limit ran out; the subclass says which."""


class ConnectTimedOut(TimedOut):
    """No connection within the connect limit: the request was never sent."""


class PoolTimedOut(TimedOut):
    """No pooled connection free within the pool limit: the request was never sent."""


class ReadTimedOut(TimedOut):
    """The request was sent and the answer did not arrive within the read limit."""


class ConnectFailed(TransportFailure):
    """The connection could not be made (refused, unresolvable, or an origin the proxy
    refuses to call): the request was never sent."""


class TlsFailed(ConnectFailed):
    """The TLS handshake failed (an untrusted certificate, a refused client certificate)."""


class ConnectionLost(TransportFailure):
    """The connection broke after the request may have been sent (a reset, a close)."""


class ProtocolFailed(TransportFailure):
    """The upstream answered something that is not HTTP (garbage, a truncated body)."""


class UndecodableAnswer(TransportFailure):
    """The answer arrived but its content encoding could not be decoded."""
