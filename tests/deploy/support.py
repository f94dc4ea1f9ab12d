"""Paths and small readers shared by the deploy tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT: Final = Path(__file__).resolve().parents[2]
DEPLOY: Final = ROOT / "deploy"
LOCK: Final = ROOT / "requirements.lock"

# "name==version \" then its "--hash=sha256:..." lines, as pip's hash mode reads them.
_ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)", re.MULTILINE)
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
# "# via a" or "# via" followed by "#   a" lines: who asked for the package.
_VIA = re.compile(r"^[ \t]*#[ \t]+(?:via[ \t]+)?(?!via$)(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)


@dataclass(frozen=True)
class Locked:
    version: str
    hashes: int
    via: frozenset[str] = frozenset()


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as source:
        return tomllib.load(source)


def runtime_requirements() -> list[Requirement]:
    return [Requirement(text) for text in pyproject()["project"]["dependencies"]]


def build_requirements() -> list[Requirement]:
    return [Requirement(text) for text in pyproject()["build-system"]["requires"]]


def parse_lock(text: str) -> dict[NormalizedName, Locked]:
    """Each locked package with its version and how many file hashes it carries."""
    entries: dict[NormalizedName, Locked] = {}
    starts = list(_ENTRY.finditer(text))
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        block = text[match.end() : end]
        via = frozenset(canonicalize_name(found["name"]) for found in _VIA.finditer(block))
        entries[canonicalize_name(match["name"])] = Locked(match["version"], len(_HASH.findall(block)), via)
    return entries


def build_only(locked: dict[NormalizedName, Locked], roots: set[NormalizedName]) -> set[NormalizedName]:
    """The build roots and whatever only they pull in, by the lock's own "via" notes."""
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for name, entry in locked.items():
            if name not in found and entry.via and entry.via <= found:
                found.add(name)
                grew = True
    return found


def kubectl_kustomize(directory: Path) -> list[dict[str, Any]]:
    """Every object an overlay renders to, as kubectl applies them."""
    kubectl = shutil.which("kubectl")
    # Not a skip: .ci/run installs kubectl, and manifests nobody rendered are untested.
    assert kubectl is not None, "kubectl is not installed (.ci/run installs it)"
    rendered = subprocess.run(  # noqa: S603 (kubectl on a directory of this repository)
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    return [document for document in yaml.safe_load_all(rendered.stdout) if document]
