"""The proxy's own keys: configured, made once on one host, refused unset on a shared database."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.errors import ConfigError
from proxy.keys import CANARY_KEY, TOKEN_KEY, KeySource, load_key

SOURCES = [pytest.param(TOKEN_KEY, id="token key"), pytest.param(CANARY_KEY, id="canary key")]


@pytest.mark.parametrize("source", SOURCES)
def test_key_file_is_created_once_and_shared(tmp_path: Path, source: KeySource) -> None:
    first = load_key(source, None, tmp_path / "data", shared_database=False)
    second = load_key(source, None, tmp_path / "data", shared_database=False)
    assert first == second
    assert len(first) >= 32
    path = tmp_path / "data" / source.file_name
    assert path.stat().st_mode & 0o777 == 0o600
    assert list((tmp_path / "data").iterdir()) == [path]


def test_the_two_keys_are_independent(tmp_path: Path) -> None:
    token_key = load_key(TOKEN_KEY, None, tmp_path, shared_database=False)
    canary_key = load_key(CANARY_KEY, None, tmp_path, shared_database=False)
    assert token_key != canary_key


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("shared", [False, True])
def test_configured_key_wins_over_the_file(tmp_path: Path, source: KeySource, shared: bool) -> None:
    assert load_key(source, "c" * 40, tmp_path, shared_database=shared) == b"c" * 40
    assert not (tmp_path / source.file_name).exists()


@pytest.mark.parametrize("source", SOURCES)
def test_an_unset_key_on_a_shared_database_stops_startup_naming_the_variable(
    tmp_path: Path, source: KeySource
) -> None:
    with pytest.raises(ConfigError, match=source.variable):
        load_key(source, None, tmp_path, shared_database=True)
    # Nothing was made: a key file would hide the mistake on the next start.
    assert not (tmp_path / source.file_name).exists()


@pytest.mark.parametrize(
    ("configured", "file_text", "message"),
    [
        pytest.param("short", None, "at least 32 bytes", id="configured too short"),
        pytest.param(None, "short", "shorter than 32", id="truncated key file"),
    ],
)
def test_short_keys_are_refused(
    tmp_path: Path, configured: str | None, file_text: str | None, message: str
) -> None:
    if file_text is not None:
        (tmp_path / TOKEN_KEY.file_name).write_text(file_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_key(TOKEN_KEY, configured, tmp_path, shared_database=False)
