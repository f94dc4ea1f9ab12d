"""A legacy token lives as long as its family's product.yaml declares, unless settings override."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from proxy.config import SecuritySettings, project_root
from tests.conftest import make_settings, running_proxy

MAPPINGS = project_root() / "mappings"


def _declared(product: str) -> int:
    spec = yaml.safe_load((MAPPINGS / product / "product.yaml").read_text(encoding="utf-8"))
    seconds: int = spec["authentication"]["token_lifetime"]["seconds"]
    return seconds


# (product, login path, login body, how the answer states the lifetime)
FAMILIES = [
    (
        "datatrust-v1",
        "/products/v1/authentication",
        {"Username": "demo-dt", "Password": "demo-dt-secret"},
        "seconds",
    ),
    ("ffr", "/v1/authenticate", {"name": "demo-ffr", "password": "demo-ffr-secret"}, "date"),
    ("mobile-trust", "/v1/authenticate", {"name": "demo-mt", "password": "demo-mt-secret"}, "date"),
]


def _lifetime_in(answer: dict[str, object], style: str, asked_at: float) -> float:
    if style == "seconds":
        seconds = answer["expiresInSeconds"]
        assert isinstance(seconds, int)
        return float(seconds)
    stated = answer["ExpirationDate"]
    assert isinstance(stated, str)
    expires = datetime.fromisoformat(stated).replace(tzinfo=ZoneInfo("America/Sao_Paulo"))
    return expires.timestamp() - asked_at


def test_every_family_declares_a_lifetime_with_evidence() -> None:
    for product, *_ in FAMILIES:
        spec = yaml.safe_load((MAPPINGS / product / "product.yaml").read_text(encoding="utf-8"))
        lifetime = spec["authentication"]["token_lifetime"]
        assert 60 <= lifetime["seconds"] <= 86400
        assert lifetime["evidence"].split(":")[0] in (
            "documented",
            "reconstructed, no public figure",
            "reconstructed",
        )


@pytest.mark.parametrize("override", [None, 900], ids=["declared", "settings-override"])
@pytest.mark.parametrize(("product", "path", "body", "style"), FAMILIES, ids=[f[0] for f in FAMILIES])
async def test_login_answers_the_family_lifetime(
    tmp_path: Path, product: str, path: str, body: dict[str, str], style: str, override: int | None
) -> None:
    settings = make_settings(tmp_path, security=SecuritySettings(legacy_token_ttl_s=override))
    expected = override if override is not None else _declared(product)
    async with running_proxy(settings) as proxy:
        asked_at = time.time()
        answer = await proxy.post(path, json=body)
    assert answer.status_code == 200, answer.text
    # Date answers are whole seconds of wall clock: allow the second the call took.
    assert abs(_lifetime_in(answer.json(), style, asked_at) - expected) <= 2
