"""The simulator answers in the vocabulary it is given: members, keys and paths are data."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from proxy.config import SimulatorSettings
from proxy.errors import ConfigError
from proxy.pdt_vocabulary import PdtVocabulary, parse_vocabulary
from proxy.simulators.otp import token_code
from proxy.simulators.pdt import create_pdt_simulator

from .support import ACCOUNTS, CATALOGUE, FULL_PERSON, SCHEMAS

SHIPPED: dict[str, Any] = yaml.safe_load((CATALOGUE.parent / "vocabulary.yaml").read_text(encoding="utf-8"))


def _vocabulary(changes: dict[tuple[str, ...], Any]) -> PdtVocabulary:
    raw = copy.deepcopy(SHIPPED)
    for path, value in changes.items():
        node = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return parse_vocabulary(raw, source="test")


def _schemas_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, schemas)
    document = json.loads((schemas / name).read_text(encoding="utf-8"))
    text = json.dumps(document).replace(f'"{old}"', f'"{new}"')
    (schemas / name).write_text(text, encoding="utf-8")
    return schemas


async def test_renamed_members_keys_and_paths(tmp_path: Path) -> None:
    vocabulary = _vocabulary(
        {
            ("authentication", "answer", "token"): "accessToken",
            ("token_validation", "value"): "code",
            ("modules", "scores", "path"): "fraud-score",
            ("modules", "scores", "pack_key"): "fraudScore",
            ("channels", "email", "type"): "EMAIL",
        }
    )
    app = create_pdt_simulator(
        SimulatorSettings(),
        catalogue_path=CATALOGUE,
        accounts=ACCOUNTS,
        vocabulary=vocabulary,
        schemas_dir=_schemas_with(tmp_path, "token-validate.request.json", "value", "code"),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pdt.test") as pdt:
        login = await pdt.post("/v1/authentication", json={"Username": "acme", "Password": ACCOUNTS["acme"]})
        auth = {"Authorization": f"Bearer {login.json()['accessToken']}"}
        created = (await pdt.post("/v1/transaction", json=FULL_PERSON, headers=auth)).json()
        tx = f"/v1/transaction/{created['id']}"
        assert (await pdt.post(f"{tx}/scores", headers=auth)).status_code == 404
        assert (await pdt.post(f"{tx}/fraud-score", headers=auth)).status_code == 201
        assert (await pdt.post(f"{tx}/emails/tokens", headers=auth)).status_code == 201
        code = token_code(created["id"], "email")
        checked = await pdt.post(f"{tx}/emails/tokens/validate", json={"code": code}, headers=auth)
        assert checked.json()["status"] == "Valid"
        assert checked.json()["type"] == "EMAIL"
        pack = (await pdt.post("/v1/packs/datatrust", json=FULL_PERSON, headers=auth)).json()
        assert "fraudScore" in pack
        assert "score" not in pack


@pytest.mark.parametrize(
    "changes",
    [
        {("authentication", "request", "username"): "login"},
        {("token_validation", "value"): "code"},
    ],
    ids=["login-member", "validation-member"],
)
def test_a_member_missing_from_its_schema_stops_the_build(changes: dict[tuple[str, ...], Any]) -> None:
    with pytest.raises(ConfigError, match="not in their request schema"):
        create_pdt_simulator(
            SimulatorSettings(), catalogue_path=CATALOGUE, accounts=ACCOUNTS, vocabulary=_vocabulary(changes)
        )
