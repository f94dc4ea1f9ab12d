"""Dockerfile and .dockerignore, checked offline (no Docker daemon here): hadolint, then
the properties the deployment relies on, read from the file."""

from __future__ import annotations

import itertools
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.support import ROOT

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = str(Path(sys.executable).parent / "hadolint")


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    # --no-color: findings compared as text. Every severity fails (threshold "info").
    return subprocess.run(  # noqa: S603 (the pinned linter from this virtualenv)
        [HADOLINT, "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def _final_stage(text: str) -> list[tuple[str, str]]:
    instructions = _instructions(text)
    last_from = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing() -> None:
    linted = _hadolint(DOCKERFILE)
    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize(
    ("dockerfile", "rule"),
    [
        ("FROM python:latest\nUSER 10001\n", "DL3007"),
        ("FROM python:3.11-slim\nRUN pip install --no-cache-dir requests\nUSER 10001\n", "DL3013"),
        ("FROM python:3.11-slim\nRUN apt-get install -y curl\nUSER 10001\n", "DL3008"),
    ],
    ids=["latest-tag", "unpinned-pip", "unpinned-apt"],
)
def test_hadolint_is_live(tmp_path: Path, dockerfile: str, rule: str) -> None:
    # The same linter run on known faults: a linter that passes everything proves nothing.
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile, encoding="utf-8")
    linted = _hadolint(path)
    assert linted.returncode != 0
    assert rule in linted.stdout


def test_the_image_runs_as_a_numeric_non_root_user() -> None:
    users = [argument for keyword, argument in _final_stage(DOCKERFILE.read_text()) if keyword == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


def test_the_data_dir_is_a_volume() -> None:
    final = _final_stage(DOCKERFILE.read_text())
    data_dir = next(
        re.search(r"PROXY_DATA_DIR=(\S+)", argument)[1]  # type: ignore[index]
        for keyword, argument in final
        if keyword == "ENV" and "PROXY_DATA_DIR=" in argument
    )
    volumes = [argument for keyword, argument in final if keyword == "VOLUME"]
    assert any(data_dir in volume for volume in volumes)


@pytest.mark.parametrize(
    "label", ["title", "description", "version", "revision", "created", "licenses", "vendor"]
)
def test_oci_labels(label: str) -> None:
    labels = " ".join(
        argument for keyword, argument in _final_stage(DOCKERFILE.read_text()) if keyword == "LABEL"
    )
    assert f"org.opencontainers.image.{label}=" in labels


def test_dependencies_come_from_the_hashed_lock_only() -> None:
    runs = [
        shlex.split(argument)
        for keyword, argument in _instructions(DOCKERFILE.read_text())
        if keyword == "RUN"
    ]
    installs = [
        words
        for words in runs
        for word, following in itertools.pairwise(words)
        if (word == "pip" or word.endswith("/pip")) and following == "install"
    ]
    assert installs
    for words in installs:
        # Every install: either the lock with hashes, or the project with nothing fetched.
        assert "--no-deps" in words
        assert "--require-hashes" in words or "--no-index" in words, words
    assert any("requirements.lock" in words for words in installs)


def test_dockerignore_admits_exactly_what_the_dockerfile_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Everything out, then each copied path back in: a new local file (a .env, a
    # SQLite ledger under var/) never reaches the build context by accident.
    assert lines[0] == "*"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for keyword, argument in _instructions(DOCKERFILE.read_text())
        if keyword == "COPY" and "--from=" not in argument
        for source in argument.split()[:-1]
    }
    assert copied
    assert copied <= admitted
    assert admitted - copied <= {"Dockerfile"}
