"""Requests as the legacy backends' binders took them, over HTTP.

Body reading (byte-order mark, charsets, media types), ASP.NET routing (letter
case, trailing slash), value conversion per family, the not-found answer per
family, and the request shapes of the public clients in
/work/shared/research/real-clients.md. The value rules themselves are tabled in
tests/mapping/data/binding_cases.yaml.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from proxy.config import project_root
from proxy.mapping.examples import load_example
from tests.conftest import ProxyFactory, make_settings

MT_EXAMPLE: dict[str, Any] = load_example("mobile-trust", "transaction.request")
FFR_EXAMPLE: dict[str, Any] = load_example("ffr", "score.request")
V1_LOGIN = b'{"name": "demo-mt", "password": "demo-mt-secret"}'
DT_LOGIN = b'{"Username": "demo-dt", "Password": "demo-dt-secret"}'
BOM = b"\xef\xbb\xbf"
V1_MALFORMED = {
    "Message": "The request is invalid.",
    "ModelState": {"$": ["The request body is not valid JSON."]},
}
V1_415 = {"Message": "The request entity's media type is not supported for this resource."}
DT_415 = {"message": "Unsupported media type. Send application/json."}


def _utf16(body: bytes) -> bytes:
    return body.decode("utf-8").encode("utf-16-le")


@pytest.mark.parametrize(
    ("path", "content", "content_type", "status"),
    [
        # Web API 2 (FFR, Mobile Trust): Json.NET's StreamReader skipped the BOM.
        pytest.param("/v1/authenticate", BOM + V1_LOGIN, "application/json", 200, id="v1-bom"),
        pytest.param("/v1/authenticate", V1_LOGIN, "text/json", 200, id="v1-text-json"),
        pytest.param(
            "/v1/authenticate", V1_LOGIN, "application/json; charset=UTF-8", 200, id="v1-charset-utf8"
        ),
        pytest.param(
            "/v1/authenticate", _utf16(V1_LOGIN), "application/json; charset=utf-16", 200, id="v1-utf16"
        ),
        # SelectCharacterEncoding fell back to the formatter's first encoding (UTF-8).
        pytest.param(
            "/v1/authenticate", V1_LOGIN, "application/json; charset=iso-8859-1", 200, id="v1-unknown-charset"
        ),
        # Only application/json and text/json were the JSON formatter's media types.
        pytest.param("/v1/authenticate", V1_LOGIN, "application/vnd.api+json", 415, id="v1-plus-json"),
        pytest.param("/v1/authenticate", V1_LOGIN, "text/plain; charset=utf-8", 415, id="v1-text-plain"),
        # ASP.NET Core's SystemTextJsonInputFormatter.
        pytest.param("/products/v1/authentication", BOM + DT_LOGIN, "application/json", 200, id="dt-bom"),
        pytest.param("/products/v1/authentication", DT_LOGIN, "text/json", 200, id="dt-text-json"),
        pytest.param(
            "/products/v1/authentication", DT_LOGIN, "application/vnd.api+json", 200, id="dt-plus-json"
        ),
        pytest.param(
            "/products/v1/authentication",
            _utf16(DT_LOGIN),
            "application/json; charset=utf-16",
            200,
            id="dt-utf16",
        ),
        # An encoding it does not support is UnsupportedContentTypeException: 415.
        pytest.param(
            "/products/v1/authentication",
            DT_LOGIN,
            "application/json; charset=iso-8859-1",
            415,
            id="dt-unknown-charset",
        ),
        pytest.param("/products/v1/authentication", DT_LOGIN, "text/plain", 415, id="dt-text-plain"),
    ],
)
async def test_body_reading(
    proxy: httpx.AsyncClient, path: str, content: bytes, content_type: str, status: int
) -> None:
    answer = await proxy.post(path, content=content, headers={"content-type": content_type})
    assert answer.status_code == status, answer.text
    if status == 415:
        assert answer.json() == (V1_415 if path.startswith("/v1") else DT_415)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/authenticate/",
        "/V1/AUTHENTICATE",
        "/Api/V1/Authenticate/",
        "/Products/V1/Authentication",
        "/api/products/v1/authentication/",
    ],
)
async def test_authentication_paths_match_as_asp_net_routing_did(proxy: httpx.AsyncClient, path: str) -> None:
    body = DT_LOGIN if "products" in path.lower() else V1_LOGIN
    answer = await proxy.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text


async def _v1_bearer(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    answer = await client.post("/v1/authenticate", json={"name": user, "password": f"{user}-secret"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['Token']}"}


@pytest.mark.parametrize("path", ["/V1/MobileTrust/Transaction", "/v1/mobiletrust/transaction/"])
async def test_an_operation_path_in_another_case_is_served_and_read_back(
    proxy: httpx.AsyncClient, path: str
) -> None:
    headers = await _v1_bearer(proxy, "demo-mt")
    created = await proxy.post(path, json=MT_EXAMPLE, headers=headers)
    assert created.status_code == 200, created.text
    transaction_id = created.json()["TransactionID"]
    read = await proxy.get(f"/V1/MOBILETRUST/TRANSACTION/{transaction_id}/", headers=headers)
    assert read.status_code == 200, read.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/V1/Nowhere", {"Message": "No HTTP resource was found that matches the request URI."}),
        ("/API/v1/fintech/nothing", {"Message": "No HTTP resource was found that matches the request URI."}),
        ("/PRODUCTS/V1/unknown", {"message": "No resource was found that matches the request URI."}),
        ("/Api/Products/V1", {"message": "No resource was found that matches the request URI."}),
    ],
)
async def test_an_unknown_path_answers_in_its_family_whatever_its_case(
    proxy: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    answer = await proxy.get(path)
    assert answer.status_code == 404
    assert answer.json() == body


async def test_the_answer_outside_every_product_is_data(tmp_path: Path, proxy_factory: ProxyFactory) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(project_root() / "mappings", mappings)
    unrouted = mappings / "unrouted.yaml"
    unrouted.write_text(
        unrouted.read_text(encoding="utf-8").replace("{message: Not Found}", "{error: nothing here}"),
        encoding="utf-8",
    )
    async with proxy_factory(make_settings(tmp_path, mappings_dir=mappings)) as client:
        answer = await client.get("/nowhere")
    assert answer.status_code == 404
    assert answer.json() == {"error": "nothing here"}


# --- values: what each family's binder converted or refused -------------------------------------


@pytest.mark.parametrize(
    ("change", "status", "model_state"),
    [
        # Json.NET reads numbers into string members and "true" into a bool.
        pytest.param({"AreaCode": 11, "Phone": 988056887}, 200, None, id="numbers-for-strings"),
        pytest.param({"BlockSmsSending": "true"}, 200, None, id="bool-as-string"),
        pytest.param({"BlockSmsSending": 1}, 200, None, id="bool-as-number"),
        pytest.param(
            {"BlockSmsSending": "maybe"},
            400,
            {"BlockSmsSending": ["Error converting value to type of BlockSmsSending."]},
            id="bool-refused",
        ),
        pytest.param(
            {"AreaCode": {"Value": "11"}},
            400,
            {"AreaCode": ["Error converting value to type of AreaCode."]},
            id="object-for-a-string",
        ),
    ],
)
async def test_mobile_trust_values(
    proxy: httpx.AsyncClient, change: dict[str, Any], status: int, model_state: dict[str, Any] | None
) -> None:
    answer = await proxy.post(
        "/v1/mobiletrust/transaction",
        json={**MT_EXAMPLE, **change},
        headers=await _v1_bearer(proxy, "demo-mt"),
    )
    assert answer.status_code == status, answer.text
    if model_state is not None:
        assert answer.json() == {"Message": "The request is invalid.", "ModelState": model_state}


@pytest.mark.parametrize(
    ("change", "status", "model_state"),
    [
        pytest.param(
            {"Phones": [{"TypeID": "2", "DDI": "55", "DDD": "11", "Number": "988887777"}]},
            200,
            None,
            id="integer-as-string",
        ),
        pytest.param({"ValidatedTokenEmail": "true"}, 200, None, id="flag-as-string"),
        pytest.param(
            {"Phones": [{"TypeID": "abc", "DDD": "11", "Number": "988887777"}]},
            400,
            {"Phones[0].TypeID": ["Error converting value to type of TypeID."]},
            id="integer-refused",
        ),
        pytest.param(
            {"Phones": [{"TypeID": 1.5, "DDD": "11", "Number": "988887777"}]},
            400,
            {"Phones[0].TypeID": ["Error converting value to type of TypeID."]},
            id="fraction-for-an-integer",
        ),
    ],
)
async def test_ffr_values(
    proxy: httpx.AsyncClient, change: dict[str, Any], status: int, model_state: dict[str, Any] | None
) -> None:
    answer = await proxy.post(
        "/v1/fintech/fraud/score", json={**FFR_EXAMPLE, **change}, headers=await _v1_bearer(proxy, "demo-ffr")
    )
    assert answer.status_code == status, answer.text
    if model_state is not None:
        assert answer.json() == {"Message": "The request is invalid.", "ModelState": model_state}


async def _dt_bearer(client: httpx.AsyncClient) -> dict[str, str]:
    answer = await client.post("/products/v1/authentication", content=DT_LOGIN)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        pytest.param({"Phone": {"AreaCode": "11", "Number": "988887777"}}, 200, None, id="well-typed"),
        # System.Text.Json's web defaults read no string from a number...
        pytest.param({"Document": 12345678909}, 400, "Document", id="number-for-a-string"),
        pytest.param({"Name": True}, 400, "Name", id="boolean-for-a-string"),
        # ...and no integer from a fraction.
        pytest.param(
            {"Phone": {"AreaCode": 11.0, "Number": "988887777"}}, 400, "Phone.AreaCode", id="fraction"
        ),
    ],
)
async def test_datatrust_values(
    proxy: httpx.AsyncClient, change: dict[str, Any], status: int, field: str | None
) -> None:
    body = {"Document": "12345678909", **change}
    answer = await proxy.post("/products/v1/datatrust", json=body, headers=await _dt_bearer(proxy))
    assert answer.status_code == status, answer.text
    if field is not None:
        message = f"The JSON value could not be converted to the type of {field.rsplit('.', 1)[-1]}."
        assert answer.json()["errors"] == {field: [message]}


# --- the public clients (real-clients.md), unchanged --------------------------------------------


async def test_python_mobile_trust_client(proxy: httpx.AsyncClient) -> None:
    """Form login, then its transaction JSON (string AreaCode, Phone and Price)."""
    login = await proxy.post(
        "/v1/authenticate",
        data={"name": "demo-mt", "password": "demo-mt-secret"},
        headers={"Accept": "application/json"},
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['Token']}", "Accept": "application/json"}
    answer = await proxy.post("/v1/mobiletrust/transaction", json=MT_EXAMPLE, headers=headers)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"], ids=["prd", "hml"])
async def test_classic_asp_login_with_a_leading_space(proxy: httpx.AsyncClient, prefix: str) -> None:
    answer = await proxy.post(
        f"{prefix}/authenticate",
        content=b" " + V1_LOGIN,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["Token"]


async def test_php_guzzle_form_params_under_a_json_content_type_stay_refused(
    proxy: httpx.AsyncClient,
) -> None:
    """Web API 2 chose the formatter by Content-Type: Json.NET read ``name=...`` and failed."""
    answer = await proxy.post(
        "/v1/authenticate",
        content=b"name=demo-mt&password=demo-mt-secret",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json() == V1_MALFORMED


async def test_php_opencart_login(proxy: httpx.AsyncClient) -> None:
    answer = await proxy.post(
        "/v1/authenticate",
        content=orjson.dumps({"name": "demo-ffr", "password": "demo-ffr-secret"}),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    assert answer.json()["Token"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/V1/MobileTrust/Transaction/",
            {"Message": "The requested resource does not support this http method."},
        ),
        ("/Products/V1/DataTrust", {"message": "The requested resource does not support this HTTP method."}),
    ],
)
async def test_a_wrong_method_on_a_path_in_another_case_is_the_familys_405(
    proxy: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    answer = await proxy.delete(path)
    assert answer.status_code == 405
    assert answer.json() == body
