"""requirements.lock: what the image installs (with --require-hashes) is what pyproject pins.

A pin changed in pyproject.toml without running deploy/lock fails here.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from tests.deploy.support import (
    LOCK,
    Locked,
    build_only,
    build_requirements,
    parse_lock,
    runtime_requirements,
)

LOCKED = parse_lock(LOCK.read_text(encoding="utf-8"))
DECLARED = runtime_requirements() + build_requirements()


def _closure(roots: list[Requirement]) -> set[NormalizedName]:
    """Every distribution the roots pull in on this interpreter (Linux, CPython 3.11, as the image)."""
    seen: set[NormalizedName] = set()
    pending = [(root, frozenset(root.extras)) for root in roots]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen and not extras:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in environments):
                pending.append((needed, frozenset(needed.extras)))
    return seen


@pytest.mark.parametrize("requirement", DECLARED, ids=[str(r) for r in DECLARED])
def test_each_declared_requirement_is_locked_at_a_version_it_allows(requirement: Requirement) -> None:
    locked = LOCKED.get(canonicalize_name(requirement.name))
    assert locked is not None, f"{requirement.name} is not in requirements.lock: run deploy/lock"
    assert requirement.specifier.contains(locked.version, prereleases=True), (
        f"pyproject asks {requirement}, the lock has {locked.version}: run deploy/lock"
    )


def test_every_locked_package_carries_hashes() -> None:
    unhashed = sorted(name for name, locked in LOCKED.items() if locked.hashes == 0)
    assert LOCKED
    assert unhashed == []


def test_the_lock_holds_every_runtime_dependency_and_nothing_foreign() -> None:
    needed = _closure(runtime_requirements())
    build = build_only(LOCKED, {canonicalize_name(requirement.name) for requirement in build_requirements()})
    assert sorted(needed - set(LOCKED)) == []
    assert sorted(set(LOCKED) - needed - build) == []


def test_build_only_follows_the_via_notes() -> None:
    locked = {
        canonicalize_name(name): Locked("1", 1, frozenset(canonicalize_name(v) for v in via))
        for name, via in [("wheel", ()), ("packaging", ("wheel",)), ("shared", ("wheel", "fastapi"))]
    }
    assert build_only(locked, {canonicalize_name("wheel")}) == {"wheel", "packaging"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a-b==1.0 \\\n    --hash=sha256:"
            + "0" * 64
            + " \\\n    --hash=sha256:"
            + "1" * 64
            + "\n    # via x\n",
            {"a-b": Locked("1.0", 2, frozenset({"x"}))},
        ),
        (
            "Foo_Bar==2.1\n    # via\n    #   pdt-proxy (pyproject.toml)\n    #   Uvicorn\n",
            {"foo-bar": Locked("2.1", 0, frozenset({"pdt-proxy", "uvicorn"}))},
        ),
        ("# only a comment\n", {}),
    ],
    ids=["hashed", "unhashed-and-normalized", "empty"],
)
def test_parse_lock(text: str, expected: dict[str, Locked]) -> None:
    assert parse_lock(text) == expected
