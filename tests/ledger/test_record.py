"""What a record holds: identifiers and outcomes, nothing personal."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from proxy.ledger.record import LedgerRecord, decode_modules, encode_modules
from tests.ledger.support import make_record


def test_a_record_has_exactly_these_fields() -> None:
    """Adding a field is a privacy decision: this list changes only with a review."""
    assert [field.name for field in dataclasses.fields(LedgerRecord)] == [
        "at",
        "tenant",
        "product",
        "operation",
        "stage",
        "side",
        "pdt_transaction_id",
        "modules",
        "status",
        "latency_ms",
        "request_id",
        "fallback",
    ]


def test_a_record_is_immutable() -> None:
    record = make_record()
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = 500  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"at": datetime(2026, 2, 1)}, "timezone-aware"),
        ({"modules": ("scores,ratings",)}, "invalid module name"),
        ({"modules": ("",)}, "invalid module name"),
    ],
    ids=["naive-time", "separator-in-name", "empty-name"],
)
def test_an_invalid_record_is_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_record(**overrides)


@pytest.mark.parametrize(
    "modules", [(), ("scores",), ("scores", "ratings", "insights"), ("pack:datatrust",), ("sms_token",)]
)
def test_modules_survive_their_text_column(modules: tuple[str, ...]) -> None:
    assert decode_modules(encode_modules(modules)) == modules
