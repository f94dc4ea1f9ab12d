"""The admin port: which listener serves which path, and who may read /metrics where."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from proxy.composition import create_app
from proxy.config import ServerSettings
from tests.conftest import make_settings

PUBLIC, ADMIN_PORT = 8080, 9464
VIEWER = {"Authorization": "Bearer demo-admin-token"}
NONE: dict[str, str] = {}
LOGIN = ("POST", "/products/v1/authentication", {"Username": "demo-dt", "Password": "demo-dt-secret"})


def get(path: str) -> tuple[str, str, None]:
    return ("GET", path, None)


@pytest.mark.parametrize(
    ("admin_port", "port", "call", "headers", "status"),
    [
        # No admin port: one listener; /metrics needs a viewer's token.
        pytest.param(None, PUBLIC, get("/metrics"), NONE, 401, id="shared: metrics without a token"),
        pytest.param(None, PUBLIC, get("/metrics"), VIEWER, 200, id="shared: metrics with a viewer token"),
        pytest.param(None, PUBLIC, get("/admin/tenants"), VIEWER, 200, id="shared: admin API"),
        pytest.param(None, PUBLIC, LOGIN, NONE, 200, id="shared: legacy login"),
        # An admin port: the admin API and /metrics move there, /metrics open on it.
        pytest.param(ADMIN_PORT, ADMIN_PORT, get("/metrics"), NONE, 200, id="admin port: metrics open"),
        pytest.param(ADMIN_PORT, ADMIN_PORT, get("/admin/tenants"), VIEWER, 200, id="admin port: admin API"),
        pytest.param(
            ADMIN_PORT, ADMIN_PORT, get("/admin/tenants"), NONE, 401, id="admin port: still a token"
        ),
        pytest.param(ADMIN_PORT, ADMIN_PORT, LOGIN, NONE, 404, id="admin port: no legacy route"),
        pytest.param(ADMIN_PORT, ADMIN_PORT, get("/healthz"), NONE, 200, id="admin port: probes"),
        pytest.param(ADMIN_PORT, PUBLIC, get("/admin/tenants"), VIEWER, 404, id="public: no admin API"),
        pytest.param(ADMIN_PORT, PUBLIC, get("/metrics"), VIEWER, 404, id="public: no metrics"),
        pytest.param(ADMIN_PORT, PUBLIC, LOGIN, NONE, 200, id="public: legacy login"),
        pytest.param(ADMIN_PORT, PUBLIC, get("/readyz"), NONE, 200, id="public: probes"),
    ],
)
async def test_listeners(
    tmp_path: Path,
    admin_port: int | None,
    port: int,
    call: tuple[str, str, object],
    headers: dict[str, str],
    status: int,
) -> None:
    settings = make_settings(tmp_path, server=ServerSettings(admin_port=admin_port))
    app = create_app(settings)
    method, path, body = call
    async with app.lifespan():
        # The ASGI scope's "server" carries the URL's port, as uvicorn's carries the
        # listener's: the app tells the listeners apart by it.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://proxy.test:{port}") as client:
            answer = await client.request(method, path, json=body, headers=headers)
    assert answer.status_code == status, answer.text


def test_the_admin_port_must_differ_from_the_public_one() -> None:
    with pytest.raises(ValueError, match="admin_port must differ from port"):
        ServerSettings(port=8080, admin_port=8080)
