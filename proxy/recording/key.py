"""The corpus pseudonym key: settings, else ``$PROXY_CORPUS_KEY``, else a key file.

The key file is created once (0600) under the corpus directory, so every recorder
writing there uses the same pseudonyms across restarts. Replicas (a shared database)
must agree on pseudonyms, so there an unset key stops startup, naming
``PROXY_CORPUS_KEY``, as the token and canary keys do (proxy/keys.py).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from proxy.errors import ConfigError

__all__ = ["KEY_ENV", "KEY_FILE", "load_corpus_key"]

KEY_ENV = "PROXY_CORPUS_KEY"
KEY_FILE = "corpus.key"
_MIN_BYTES = 16


def load_corpus_key(
    configured: str | None,
    directory: Path,
    environ: Mapping[str, str] | None = None,
    *,
    shared_database: bool = False,
) -> bytes:
    env = os.environ if environ is None else environ
    text = configured or env.get(KEY_ENV)
    if text:
        key = text.encode("utf-8")
        if len(key) < _MIN_BYTES:
            raise ConfigError(f"the corpus key must be at least {_MIN_BYTES} bytes")
        return key
    if shared_database:
        raise ConfigError(
            f"{KEY_ENV} is not set, but recording is on and the database is shared (PostgreSQL): "
            f"every replica must be given the same {KEY_ENV}, or one person would get a "
            "different pseudonym on each replica"
        )
    path = directory / KEY_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes().strip()
        else:
            key = secrets.token_hex(32).encode("ascii")
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key + b"\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read or create the corpus key: {exc.strerror}") from exc
    if len(key) < _MIN_BYTES:
        raise ConfigError(f"{path}: the corpus key must be at least {_MIN_BYTES} bytes")
    return key
