"""Content hashes of a configuration set: which files, which bytes, one version.

An operator comparing replicas wants one short answer ("do they run the same
set?") and, when they do not, the file that differs. So each file read for the
set gets its own sha256, the four parts (mappings, tenants, pricing, comparison
rules) one hash each, and the whole set one ``version`` over the parts.

Hashing is separated from reading: ``combine`` is pure and ``fingerprint_files``
is the only function here that touches the disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["PARTS", "READ_SUFFIXES", "Fingerprint", "combine", "fingerprint_files", "mapping_files"]

# What the proxy reads under the mappings directory; a README or an editor's
# backup next to them is not configuration and must not move the version.
READ_SUFFIXES: Final = frozenset({".yaml", ".yml", ".csv", ".json"})
PARTS: Final = ("mappings", "tenants", "pricing", "compare")
# Long enough to tell sets apart at a glance, short enough for a metric label.
_SHORT: Final = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class Fingerprint:
    # Display name -> sha256 of the bytes, for every file the set was read from.
    files: Mapping[str, str] = field(default_factory=dict)
    # Part name (PARTS) -> sha256 over that part's files.
    parts: Mapping[str, str] = field(default_factory=dict)
    # sha256 over the parts: equal versions mean equal sets.
    version: str = ""

    @property
    def short(self) -> str:
        return self.version[:_SHORT]

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "short": self.short,
            "hashes": dict(self.parts),
            "files": dict(self.files),
        }


def _digest(lines: Iterable[tuple[str, str]]) -> str:
    hasher = hashlib.sha256()
    for name, value in sorted(lines):
        # NUL and newline cannot appear in a hex digest nor (sanely) a file name:
        # two different listings never hash the same text.
        hasher.update(f"{name}\0{value}\n".encode())
    return hasher.hexdigest()


def combine(part_files: Mapping[str, Mapping[str, str]]) -> Fingerprint:
    """The fingerprint of ``part -> {file name -> sha256}``."""
    parts = {part: _digest(files.items()) for part, files in part_files.items()}
    files = {name: digest for listing in part_files.values() for name, digest in listing.items()}
    return Fingerprint(files=files, parts=parts, version=_digest(parts.items()))


def mapping_files(root: Path) -> list[Path]:
    """The files under ``root`` a set is read from, in a stable order."""
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix in READ_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint_files(
    *, mappings_dir: Path, tenants_file: Path, pricing_file: Path, compare_file: Path
) -> Fingerprint:
    """Hash every file of the set; OSError when one cannot be read."""
    root = mappings_dir.resolve()
    special = {tenants_file.resolve(), pricing_file.resolve(), compare_file.resolve()}
    mappings = {
        f"mappings/{path.relative_to(root).as_posix()}": _sha256(path)
        for path in mapping_files(root)
        if path.resolve() not in special
    }

    def single(path: Path) -> dict[str, str]:
        resolved = path.resolve()
        name = (
            f"mappings/{resolved.relative_to(root).as_posix()}"
            if resolved.is_relative_to(root)
            else str(path)
        )
        return {name: _sha256(path)}

    return combine(
        {
            "mappings": mappings,
            "tenants": single(tenants_file),
            "pricing": single(pricing_file),
            "compare": single(compare_file),
        }
    )
