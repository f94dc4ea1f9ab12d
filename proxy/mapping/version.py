"""The mapping version a report names: a short digest of every file under the mappings folder.

The mappings have no release number of their own; a content digest changes whenever
any table, rule or contract changes, and two proxies with the same digest translate
identically, which is what a bank comparing two reports needs to know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["fingerprint", "mapping_version"]


def fingerprint(files: Iterable[tuple[str, bytes]]) -> str:
    """12 hex digits over (relative path, content) pairs, in path order. Pure."""
    digest = hashlib.sha256()
    for name, content in sorted(files):
        digest.update(name.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()[:12]


def mapping_version(directory: Path) -> str:
    return fingerprint(
        (path.relative_to(directory).as_posix(), path.read_bytes())
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
