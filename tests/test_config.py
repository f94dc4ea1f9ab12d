from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import SIMULATOR, load_settings
from proxy.errors import ConfigError


def test_defaults_are_the_embedded_laptop_setup() -> None:
    settings = load_settings(environ={})
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8080
    assert settings.pdt.all_simulator
    assert settings.tenants_file is None
    assert (settings.mappings_dir / "datatrust-v1" / "product.yaml").is_file()


def test_yaml_file_and_environment_overrides(tmp_path: Path) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(
        "server: {port: 9000}\n"
        "pdt:\n  environments:\n    prd: {base_url: 'https://pdt.example/'}\n"
        "tenants_file: tenants.yaml\n",
        encoding="utf-8",
    )
    settings = load_settings(
        config, environ={"PROXY_ADMIN_TOKEN": "t0k", "PROXY_PDT_HML_URL": "http://hml.example"}
    )
    assert settings.server.port == 9000
    assert settings.pdt.environments["prd"].base_url == "https://pdt.example"
    assert settings.pdt.environments["hml"].base_url == "http://hml.example"
    assert settings.security.admin_token == "t0k"
    # Relative paths in the file are relative to the file, not the working directory.
    assert settings.tenants_file == tmp_path / "tenants.yaml"
    assert not settings.pdt.uses_simulator


def test_partial_environments_keep_the_other_default(tmp_path: Path) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text("pdt: {environments: {hml: {base_url: 'http://hml.example'}}}\n", encoding="utf-8")
    settings = load_settings(config, environ={})
    assert settings.pdt.environments["prd"].base_url == SIMULATOR
    assert settings.pdt.uses_simulator
    assert not settings.pdt.all_simulator


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("server: {port: 0}\n", "server.port"),
        ("server: {unknown: 1}\n", "server.unknown"),
        ("pdt: {environments: {prd: {base_url: 'ftp://x'}}}\n", "base_url"),
        ("- a list\n", "top level must be a mapping"),
        ("server: [unclosed\n", "cannot read configuration"),
    ],
    ids=["port-range", "unknown-key", "bad-url", "not-a-mapping", "bad-yaml"],
)
def test_invalid_configuration_names_the_problem(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")) as raised:
        load_settings(config, environ={})
    assert str(config) in str(raised.value)


def test_settings_are_immutable() -> None:
    settings = load_settings(environ={})
    with pytest.raises(Exception, match="frozen"):
        settings.server.port = 1  # type: ignore[misc]


# --- the proxy's one database: database.dsn and its alias ledger.dsn -------------------------------

DSN_A = "host=db-a dbname=proxy"
DSN_B = "host=db-b dbname=proxy"

DATABASE_SOURCES = [
    # (settings file, environment, the resolved DSN)
    ("", {}, None),
    ("", {"PROXY_DATABASE_DSN": DSN_A}, DSN_A),
    ("", {"PROXY_LEDGER_DSN": DSN_A}, DSN_A),
    ("", {"PROXY_DATABASE_DSN": DSN_A, "PROXY_LEDGER_DSN": DSN_A}, DSN_A),
    (f"database: {{dsn: '{DSN_A}'}}\n", {}, DSN_A),
    (f"ledger: {{dsn: '{DSN_A}'}}\n", {}, DSN_A),
    (f"ledger: {{dsn: '{DSN_A}'}}\n", {"PROXY_LEDGER_DSN": DSN_B}, DSN_B),
]


@pytest.mark.parametrize(("content", "environ", "expected"), DATABASE_SOURCES)
def test_database_dsn_and_its_ledger_alias_resolve_to_one_value(
    tmp_path: Path, content: str, environ: dict[str, str], expected: str | None
) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(content, encoding="utf-8")
    settings = load_settings(config, environ=environ)
    assert settings.database.dsn == settings.ledger.dsn == expected
    assert DSN_A not in repr(settings)
    assert DSN_B not in repr(settings)


@pytest.mark.parametrize(
    ("content", "environ"),
    [
        ("", {"PROXY_DATABASE_DSN": DSN_A, "PROXY_LEDGER_DSN": DSN_B}),
        (f"database: {{dsn: '{DSN_A}'}}\nledger: {{dsn: '{DSN_B}'}}\n", {}),
        (f"ledger: {{dsn: '{DSN_B}'}}\n", {"PROXY_DATABASE_DSN": DSN_A}),
    ],
    ids=["both-variables", "both-keys", "key-and-variable"],
)
def test_two_different_databases_are_a_config_error_naming_both(
    tmp_path: Path, content: str, environ: dict[str, str]
) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ=environ)
    message = str(raised.value)
    assert "database.dsn" in message
    assert "ledger.dsn" in message
    assert DSN_A not in message
    assert DSN_B not in message


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),
        ({"PROXY_DATABASE_AUTO_MIGRATE": "false"}, False),
        ({"PROXY_DATABASE_AUTO_MIGRATE": "1"}, True),
    ],
)
def test_auto_migrate_defaults_on_and_the_environment_turns_it_off(
    environ: dict[str, str], expected: bool
) -> None:
    assert load_settings(environ=environ).database.auto_migrate is expected


def test_a_pool_whose_minimum_exceeds_its_maximum_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text("database: {pool_min_size: 5, pool_max_size: 2}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="pool_min_size"):
        load_settings(config, environ={})


@pytest.mark.parametrize(
    ("environ", "file_text", "previous", "canary"),
    [
        pytest.param({}, None, (), None, id="unset"),
        pytest.param(
            {"PROXY_TOKEN_KEYS_PREVIOUS": " k1 ,k2,, ", "PROXY_CANARY_KEY": "c1"},
            None,
            ("k1", "k2"),
            "c1",
            id="environment: comma-separated, blanks dropped",
        ),
        pytest.param(
            {},
            "security:\n  previous_token_keys: [k1]\n  canary_key: c2\n",
            ("k1",),
            "c2",
            id="settings file list",
        ),
    ],
)
def test_rotation_and_canary_keys(
    tmp_path: Path,
    environ: dict[str, str],
    file_text: str | None,
    previous: tuple[str, ...],
    canary: str | None,
) -> None:
    path = None
    if file_text is not None:
        path = tmp_path / "settings.yaml"
        path.write_text(file_text, encoding="utf-8")
    settings = load_settings(path, environ=environ)
    assert settings.security.previous_token_keys == previous
    assert settings.security.canary_key == canary
    # Secrets never reach a repr (and so never a log line that prints settings).
    assert "k1" not in repr(settings.security)
