"""The PDT client speaks the vocabulary it is given: every path and member renamed in data
reaches the wire with no Python change."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
import respx
import yaml

from proxy.config import project_root
from proxy.pdt_vocabulary import PdtVocabulary, parse_vocabulary
from proxy.upstream import PdtClient
from tests.upstream.support import BASE, TX, FakeClock, a_call, pdt_settings

SHIPPED: dict[str, Any] = yaml.safe_load(
    (project_root() / "mappings" / "pdt" / "vocabulary.yaml").read_text(encoding="utf-8")
)


def renamed(changes: dict[tuple[str, ...], Any]) -> PdtVocabulary:
    raw = copy.deepcopy(SHIPPED)
    for path, value in changes.items():
        node = raw
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return parse_vocabulary(raw, source="test")


RENAMED = renamed(
    {
        ("authentication", "path"): "/v2/login",
        ("authentication", "request", "username"): "user",
        ("authentication", "request", "password"): "secret",
        ("authentication", "answer", "token"): "accessToken",
        ("authentication", "answer", "lifetime"): "ttl",
        ("transaction", "path"): "/v2/tx",
        ("transaction", "all"): "everything",
        ("packs", "path"): "/v2/bundles",
        ("modules", "scores", "path"): "fraud-score",
        ("channels", "sms", "path"): "sms/otp",
        ("channels", "sms", "validate"): "sms/otp/check",
        ("channels", "email", "path"): "mail/otp",
        ("channels", "email", "validate"): "mail/otp/check",
        ("token_validation", "value"): "code",
    }
)

Invoke = Callable[[PdtClient], Any]

# (call, method, path PDT sees, body PDT receives)
CALLS: list[Any] = [
    pytest.param(
        lambda c: c.create_transaction(a_call(), {"document": "1"}),
        "POST",
        "/v2/tx",
        {"document": "1"},
        id="transaction",
    ),
    pytest.param(
        lambda c: c.create_pack(a_call(), "dt", {"document": "1"}),
        "POST",
        "/v2/bundles/dt",
        {"document": "1"},
        id="pack",
    ),
    pytest.param(lambda c: c.get_all(a_call(), TX), "GET", f"/v2/tx/{TX}/everything", None, id="all"),
    pytest.param(
        lambda c: c.request_modules(a_call(), TX, ["scores"]),
        "POST",
        f"/v2/tx/{TX}/fraud-score",
        None,
        id="module",
    ),
    pytest.param(
        lambda c: c.send_token(a_call(), TX, "sms"), "POST", f"/v2/tx/{TX}/sms/otp", None, id="sms-send"
    ),
    pytest.param(
        lambda c: c.send_token(a_call(), TX, "email"), "POST", f"/v2/tx/{TX}/mail/otp", None, id="email-send"
    ),
    pytest.param(
        lambda c: c.validate_token(a_call(), TX, "sms", "123456"),
        "POST",
        f"/v2/tx/{TX}/sms/otp/check",
        {"code": "123456"},
        id="sms-validate",
    ),
    pytest.param(
        lambda c: c.validate_token(a_call(), TX, "email", "1"),
        "POST",
        f"/v2/tx/{TX}/mail/otp/check",
        {"code": "1"},
        id="email-validate",
    ),
]


@pytest.mark.parametrize(("invoke", "method", "path", "body"), CALLS)
async def test_a_renamed_vocabulary_reaches_the_wire(
    invoke: Invoke, method: str, path: str, body: dict[str, Any] | None
) -> None:
    router = respx.Router(base_url=BASE, assert_all_called=False)
    login = router.post("/v2/login").mock(
        return_value=httpx.Response(200, json={"accessToken": "tok-9", "ttl": 600})
    )
    answer: Any = [] if path.endswith("fraud-score") else {"status": "ok"}
    route = router.request(method, path).mock(
        return_value=httpx.Response(201 if method == "POST" else 200, json=answer)
    )
    transport = httpx.MockTransport(router.async_handler)
    client = PdtClient(transport, pdt_settings(), clock=FakeClock(), vocabulary=RENAMED)
    try:
        await invoke(client)
    finally:
        await client.aclose()
        await transport.aclose()
    assert orjson.loads(login.calls.last.request.content) == {"user": "acme", "secret": "pw-Secret-77"}
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer tok-9"
    assert (orjson.loads(sent.content) if sent.content else None) == body


@pytest.mark.parametrize(
    "invoke",
    [
        pytest.param(
            lambda c: c.request_modules(a_call(), TX, ["fraud-score"]), id="module-by-path-not-name"
        ),
        pytest.param(lambda c: c.send_token(a_call(), TX, "sms/otp"), id="channel-by-path-not-name"),
    ],
)
async def test_calls_name_modules_and_channels_by_identifier(invoke: Invoke) -> None:
    client = PdtClient(
        httpx.MockTransport(lambda request: httpx.Response(500)), pdt_settings(), vocabulary=RENAMED
    )
    with pytest.raises(ValueError, match="unknown"):
        await invoke(client)
    await client.aclose()
