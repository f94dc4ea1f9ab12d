"""The one place where upstream answers and transport failures become the proxy's errors.

Messages name the call and the status or failure class, never the upstream body,
the URL, a token or anything from the request: they end up in logs (LGPD).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from proxy.errors import (
    NotFound,
    ProxyError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from proxy.upstream.failures import TimedOut, TransportFailure, UndecodableAnswer

__all__ = [
    "MAX_BODY_BYTES",
    "SUCCESS",
    "check_size",
    "check_status",
    "most_meaningful",
    "parse_json",
    "translated",
]

# PDT answers are a few KiB (a transaction plus a handful of module results); 1 MiB
# is far beyond any real answer and bounds what a broken or hostile upstream can
# make the proxy buffer per call.
MAX_BODY_BYTES = 1024 * 1024

SUCCESS = frozenset({200, 201})


@contextmanager
def translated(call: str, *, upstream: str = "PDT") -> Iterator[None]:
    """Turn transport failures and timeouts inside the block into ``UpstreamError``s.

    Not chained: a transport's message is already free of the URL, but its cause's may not be.
    """
    try:
        yield
    except ProxyError:
        raise
    except (TimedOut, TimeoutError):
        raise UpstreamTimeout(f'{upstream} call="{call}" timed out', call=call) from None
    except UndecodableAnswer:
        raise UpstreamMalformed(f'{upstream} call="{call}" answered an undecodable body', call=call) from None
    except TransportFailure as exc:
        raise UpstreamUnavailable(
            f'{upstream} call="{call}" failed: {type(exc).__name__}', call=call
        ) from None


def check_status(call: str, status: int, *, id_based: bool) -> None:
    """Raise the error a non-success status means; ``id_based`` calls name a transaction."""
    if status in SUCCESS:
        return
    if status == 429 or status >= 500:
        raise UpstreamUnavailable(f'PDT call="{call}" answered {status}', call=call)
    if status == 404 and id_based:
        raise NotFound(f'PDT has no such transaction (call="{call}")')
    if 400 <= status < 500:
        raise UpstreamRejected(f'PDT call="{call}" answered {status}', status=status, call=call)
    # Redirects are not followed and 1xx/other 2xx carry no answer the proxy can use.
    raise UpstreamMalformed(f'PDT call="{call}" answered unexpected status {status}', call=call)


def check_size(body: bytes, call: str, limit: int = MAX_BODY_BYTES, *, upstream: str = "PDT") -> bytes:
    """``body`` when within ``limit``; a transport hands at most one byte more."""
    if len(body) > limit:
        raise _oversized(call, limit, upstream)
    return body


def _oversized(call: str, limit: int, upstream: str) -> UpstreamMalformed:
    return UpstreamMalformed(f'{upstream} call="{call}" answered a body over {limit} bytes', call=call)


def parse_json(call: str, content: bytes, expected: type[dict[str, Any]] | type[list[Any]]) -> Any:
    """The JSON ``content`` when its top level is an ``expected`` (object or array)."""
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamMalformed(f'PDT call="{call}" answered a body that is not JSON', call=call) from None
    if not isinstance(value, expected):
        raise UpstreamMalformed(
            f'PDT call="{call}" answered JSON {type(value).__name__}, expected {expected.__name__}', call=call
        )
    return value


# When parallel calls fail together, an answer about the request itself says more
# than a transient failure, and a broken answer more than an outage; a timeout is
# often only the symptom of a sibling's failure.
_RANK: tuple[type[ProxyError], ...] = (
    NotFound,
    UpstreamRejected,
    UpstreamMalformed,
    UpstreamUnavailable,
    UpstreamTimeout,
    ProxyError,
)


def most_meaningful(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error to raise for ``group``: the group itself if any member is not ours."""
    leaves = _leaves(group)
    if not all(isinstance(leaf, ProxyError) for leaf in leaves):
        return group
    return min(leaves, key=lambda leaf: next(i for i, kind in enumerate(_RANK) if isinstance(leaf, kind)))


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    leaves: list[BaseException] = []
    for member in group.exceptions:
        leaves.extend(_leaves(member) if isinstance(member, BaseExceptionGroup) else [member])
    return leaves
