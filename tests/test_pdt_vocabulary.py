"""Loading mappings/pdt/vocabulary.yaml: the shipped names, and the broken files refused."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.config import project_root
from proxy.errors import MappingError
from proxy.pdt_vocabulary import default_vocabulary, load_vocabulary, parse_vocabulary

FILE = project_root() / "mappings" / "pdt" / "vocabulary.yaml"
SHIPPED: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))


def test_the_shipped_vocabulary_names_what_pdt_md_documents() -> None:
    names = default_vocabulary()
    assert names.authentication.path == "/v1/authentication"
    assert (names.authentication.username, names.authentication.password) == ("Username", "Password")
    assert (names.authentication.token, names.authentication.lifetime) == ("token", "expiresInSeconds")
    assert names.transaction.path == "/v1/transaction"
    assert {name: module.path for name, module in names.modules.items()} == {
        "scores": "scores",
        "ratings": "ratings",
        "insights": "insights",
    }
    assert dict(names.pack_keys) == {"score": "scores", "rating": "ratings", "insight": "insights"}
    assert {name: (c.path, c.validate_path, c.view_key) for name, c in names.channels.items()} == {
        "sms": ("sms/tokens", "sms/tokens/validate", "smsTokens"),
        "email": ("emails/tokens", "emails/tokens/validate", "emailTokens"),
    }
    assert names.token_validation.value == "value"
    assert names.recorded_modules == {"scores", "ratings", "insights", "sms_token", "email_token"}


def _changed(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(SHIPPED)
    node = raw
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


_DELETE = object()

# (what is changed, to what, words the refusal must contain)
BROKEN: list[Any] = [
    pytest.param(("transaction", "path"), "v1/transaction", "transaction.path", id="relative-absolute-path"),
    pytest.param(("transaction", "path"), "/v1/trans action", "transaction.path", id="space-in-path"),
    pytest.param(("packs", "path"), "/v1/packs?x=1", "packs.path", id="query-in-path"),
    pytest.param(("modules", "scores", "path"), "../admin", "'..' segment", id="dot-dot-segment"),
    pytest.param(
        ("channels", "sms", "path"), "/sms/tokens", "channels.sms.path", id="leading-slash-in-relative"
    ),
    pytest.param(("channels", "sms", "path"), "scores", "used twice", id="channel-path-is-a-module-path"),
    pytest.param(("channels", "email", "view_key"), "smsTokens", "used twice", id="view-key-twice"),
    pytest.param(("channels", "sms", "view_key"), "scores", "used twice", id="view-key-is-a-module"),
    pytest.param(("modules", "ratings", "pack_key"), "score", "used twice", id="pack-key-twice"),
    pytest.param(("channels", "sms", "module"), "scores", "used twice", id="ledger-name-is-a-module"),
    pytest.param(("channels", "sms", "sends_to"), "fax", "sends_to", id="unknown-destination"),
    pytest.param(("channels", "sms", "sends_to"), "email", "used twice", id="two-channels-one-destination"),
    pytest.param(
        ("modules", "ratings", "simulated_as"), "score", "used twice", id="two-modules-one-generator"
    ),
    pytest.param(
        ("modules", "scores", "simulated_as"), "biometrics", "simulated_as", id="unsimulated-module"
    ),
    pytest.param(("authentication", "request", "username"), "user name", "username", id="member-with-space"),
    pytest.param(("token_validation", "value"), _DELETE, "token_validation.value", id="missing-member"),
    pytest.param(("modules", "scores", "weight"), 1, "weight", id="unknown-key"),
    pytest.param(("modules",), {}, "modules", id="no-modules"),
    pytest.param(("modules", "Scores!"), SHIPPED["modules"]["scores"], "identifiers", id="bad-identifier"),
]


@pytest.mark.parametrize(("path", "value", "words"), BROKEN)
def test_a_broken_vocabulary_is_refused_with_the_file_and_the_reason(
    path: tuple[str, ...], value: Any, words: str
) -> None:
    with pytest.raises(MappingError) as caught:
        parse_vocabulary(_changed(path, value), source="pdt/vocabulary.yaml")
    assert caught.value.file == "pdt/vocabulary.yaml"
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "cannot read"), ("modules: [", "not valid YAML"), ("- a list", "top level")],
    ids=["missing", "not-yaml", "not-a-mapping"],
)
def test_an_unreadable_file_is_refused(tmp_path: Path, content: str | None, words: str) -> None:
    path = tmp_path / "vocabulary.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(MappingError, match=words):
        load_vocabulary(path)
