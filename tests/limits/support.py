"""The Redis test server, shared by every test of shared counters (limits, logins)."""

from __future__ import annotations

import os
import secrets
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

__all__ = ["REDIS_URL", "closed_port_url", "needs_redis", "unique_prefix"]

# CI runs Redis here (the machine starts it); PROXY_TEST_REDIS_URL points elsewhere.
REDIS_URL = os.environ.get("PROXY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@cache
def redis_unreachable() -> str | None:
    """Why the Redis tests cannot run, or None when the server listens.

    Only "nothing listens there" skips: a server that answers wrongly is a broken
    setup, and its tests fail loudly instead.
    """
    parts = urlsplit(REDIS_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as error:
        return f"no Redis server listens on {host}:{port} ({error})"


needs_redis = pytest.mark.skipif(redis_unreachable() is not None, reason=redis_unreachable() or "")


def unique_prefix() -> str:
    """Keys of one test only: parallel runs on the same Redis never share a bucket."""
    return f"pdt-proxy-test:{secrets.token_hex(6)}:"


def closed_port_url() -> str:
    """A Redis URL where nothing listens: a port just bound and released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"
