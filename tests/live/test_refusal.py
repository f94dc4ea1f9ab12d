"""Every refusal has lint's three fields, whatever raised it."""

from __future__ import annotations

import pytest

from proxy.errors import ConfigError, MappingError
from proxy.live.refusal import Refusal, refusal_of


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            MappingError("ffr/product.yaml", "unknown field", rule="Score"),
            Refusal(file="ffr/product.yaml", rule="Score", reason="unknown field"),
        ),
        (
            ConfigError("/etc/proxy/tenants.yaml: tenant acme: id used twice"),
            Refusal(file="/etc/proxy/tenants.yaml", rule=None, reason="tenant acme: id used twice"),
        ),
        (ConfigError("no file named"), Refusal(file="-", rule=None, reason="no file named")),
        # An unexpected error names its type only: its message could quote a file's value.
        (
            KeyError("12345678909"),
            Refusal(file="-", rule=None, reason="unexpected KeyError while loading the set"),
        ),
    ],
)
def test_refusal_of(error: Exception, expected: Refusal) -> None:
    assert refusal_of(error) == expected


def test_the_text_reads_as_lint_prints_it() -> None:
    refusal = Refusal(file="ffr/product.yaml", rule="Score", reason="unknown field")
    assert refusal.text == str(MappingError("ffr/product.yaml", "unknown field", rule="Score"))
