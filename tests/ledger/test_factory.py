"""Settings -> ledger: the backend choice, the DSN from the environment, pricing at startup."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.composition import create_app
from proxy.config import load_settings
from proxy.errors import ConfigError, MappingError
from proxy.ledger.factory import SQLITE_FILE, build_ledger, build_store, pricing_path
from proxy.ledger.ledger import DisabledLedger, Ledger
from proxy.ledger.postgres import PostgresStore
from proxy.ledger.sqlite import SqliteStore
from tests.conftest import make_settings

DSN = "host=db.internal port=5432 user=ledger password=hunter2-secret dbname=proxy"


def test_the_default_store_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"PROXY_DATA_DIR": str(tmp_path)})
    store = build_store(settings)
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / SQLITE_FILE
    assert isinstance(build_ledger(settings), Ledger)


def test_a_dsn_in_the_environment_selects_postgresql_and_stays_out_of_repr() -> None:
    settings = load_settings(environ={"PROXY_LEDGER_DSN": DSN})
    assert settings.ledger.dsn == DSN
    store = build_store(settings)
    assert isinstance(store, PostgresStore)
    assert store.dsn == DSN
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("ledger: {max_batch: 64, max_wait_ms: 2}", {"max_batch": 64, "max_wait_ms": 2.0}),
        ("ledger: {enabled: false}", {"enabled": False}),
        ("ledger: {sqlite_synchronous: FULL}", {"sqlite_synchronous": "FULL"}),
        (
            "",
            {
                "enabled": True,
                "max_batch": 512,
                "max_wait_ms": 0.0,
                "sqlite_synchronous": "NORMAL",
                "dsn": None,
            },
        ),
    ],
)
def test_the_ledger_section_of_the_settings_file(
    tmp_path: Path, yaml_text: str, expected: dict[str, object]
) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    ledger = load_settings(config, environ={}).ledger
    assert {key: getattr(ledger, key) for key in expected} == expected


@pytest.mark.parametrize(
    "yaml_text",
    [
        "ledger: {max_batch: 0}",
        "ledger: {max_wait_ms: -1}",
        "ledger: {sqlite_synchronous: OFF}",
        "ledger: {batch: 10}",
    ],
)
def test_an_invalid_ledger_section_is_refused(tmp_path: Path, yaml_text: str) -> None:
    config = tmp_path / "proxy.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ledger\."):
        load_settings(config, environ={})


def test_metering_off_builds_a_ledger_that_records_nothing(tmp_path: Path) -> None:
    base = make_settings(tmp_path)
    settings = base.model_copy(update={"ledger": base.ledger.model_copy(update={"enabled": False})})
    assert isinstance(build_ledger(settings), DisabledLedger)


def test_pricing_comes_from_the_mappings_unless_configured(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert pricing_path(settings) == settings.mappings_dir / "billing" / "pricing.yaml"
    other = tmp_path / "prices.yaml"
    configured = settings.model_copy(
        update={"ledger": settings.ledger.model_copy(update={"pricing_file": other})}
    )
    assert pricing_path(configured) == other


def test_a_relative_pricing_file_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "proxy.yaml"
    config.parent.mkdir()
    config.write_text("ledger: {pricing_file: billing/prices.yaml}", encoding="utf-8")
    assert (
        load_settings(config, environ={}).ledger.pricing_file == tmp_path / "conf" / "billing" / "prices.yaml"
    )


def test_a_broken_pricing_file_stops_the_proxy_before_it_listens(tmp_path: Path) -> None:
    broken = tmp_path / "pricing.yaml"
    broken.write_text(
        "evidence: sample\ncurrency: BRL\nproducts: {datatrust-v1: {modules: {scores: '-1'}}}\n"
    )
    base = make_settings(tmp_path)
    settings = base.model_copy(update={"ledger": base.ledger.model_copy(update={"pricing_file": broken})})
    with pytest.raises(MappingError, match="must be zero or positive") as caught:
        create_app(settings)
    assert str(caught.value).startswith(str(broken))
