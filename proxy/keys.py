"""The proxy's own secret keys: configured, or made once in a file on a single host.

Two keys, each with one job, so rotating one never disturbs the other:

- the legacy-token key signs the tokens the proxy issues (``PROXY_TOKEN_KEY``);
- the canary key places each end customer in a tenant's canary bucket
  (``PROXY_CANARY_KEY``). It must stay put for as long as canaries run: were it
  derived from the token key, a token-key rotation would move customers between
  PDT and legacy mid-canary.

On one host, a key file under the data directory lets every worker share a key
with zero setup. Replicas that share a database run on several hosts, and each
would make its own file: tokens from one replica would be refused by the next,
and a customer's canary side would depend on the replica. So on a shared database
a key that is not configured stops startup, naming the variable to set.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from proxy.errors import ConfigError

__all__ = ["CANARY_KEY", "MIN_KEY_BYTES", "TOKEN_KEY", "KeySource", "load_key"]

# HS256 and HMAC-BLAKE2b keys shorter than this are guessable offline.
MIN_KEY_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where one key comes from when it is not configured, and how to ask for it."""

    variable: str
    file_name: str


TOKEN_KEY: Final = KeySource("PROXY_TOKEN_KEY", "token.key")
CANARY_KEY: Final = KeySource("PROXY_CANARY_KEY", "canary.key")


def load_key(source: KeySource, configured: str | None, data_dir: Path, *, shared_database: bool) -> bytes:
    """The configured key, else (single host only) the key file, made on first use."""
    if configured:
        key = configured.encode()
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(f"{source.variable} must be at least {MIN_KEY_BYTES} bytes")
        return key
    if shared_database:
        raise ConfigError(
            f"{source.variable} is not set, but the database is shared (PostgreSQL): every replica "
            f"must be given the same {source.variable}, or each would make its own key"
        )
    path = data_dir / source.file_name
    if not path.exists():
        _create_once(path)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"{path}: key file is shorter than {MIN_KEY_BYTES} bytes")
    return key


def _create_once(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: link is atomic and refuses to
    # overwrite, so workers starting together all end up reading one key.
    draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
