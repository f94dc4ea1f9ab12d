from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from proxy.edge.fast_path import LegacyFastPath


async def _legacy(request: Request) -> Response:
    return PlainTextResponse(f"legacy {request.path_params.get('item', '-')}")


class Inner:
    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await PlainTextResponse("inner")(scope, receive, send)


@pytest.mark.parametrize(
    ("method", "path", "body", "reaches_inner"),
    [
        ("POST", "/v1/thing", "legacy -", False),
        ("GET", "/v1/thing/42", "legacy 42", False),
        ("GET", "/v1/thing", "inner", True),  # wrong method: FastAPI answers the 405
        ("GET", "/admin/tenants", "inner", True),
    ],
    ids=["legacy-post", "legacy-param", "method-mismatch", "other-path"],
)
async def test_only_full_legacy_matches_skip_the_inner_app(
    method: str, path: str, body: str, reaches_inner: bool
) -> None:
    inner = Inner()
    routes = [
        Route("/v1/thing", _legacy, methods=["POST"]),
        Route("/v1/thing/{item}", _legacy, methods=["GET"]),
    ]
    app = LegacyFastPath(inner, routes)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.request(method, path)
    assert answer.text == body
    assert (path in inner.paths) is reaches_inner
