"""proxy.cockpit.forms: small URL-encoded forms only."""

from __future__ import annotations

import pytest

from proxy.cockpit.forms import FormRefused, parse_form


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b"", {}),
        (b"stage=canary&percent=10", {"stage": "canary", "percent": "10"}),
        (b"stage=shadow&stage=pdt", {"stage": "shadow"}),
        (b"token=a%20b+c&empty=", {"token": "a b c", "empty": ""}),
        (b"name=\xff", {"name": "\ufffd"}),
    ],
)
def test_parse_form(body: bytes, fields: dict[str, str]) -> None:
    assert parse_form(body) == fields


def test_too_many_fields_is_refused() -> None:
    with pytest.raises(FormRefused):
        parse_form(b"&".join(b"f%d=1" % n for n in range(50)))
