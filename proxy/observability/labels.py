"""Metric labels shared by several owners of one series.

``host_of`` names an upstream host the same way for the circuit breakers
(``proxy.upstream.resilience``), their metrics, and the startup summary
(``proxy.observability.startup``): a label that two spellings would split in two.
"""

from __future__ import annotations

import httpx

__all__ = ["host_of"]


def host_of(base_url: str) -> str:
    """The host (and a non-default port) of a base URL: the breaker's name and metric label."""
    url = httpx.URL(base_url)
    return url.host if url.port is None else f"{url.host}:{url.port}"
