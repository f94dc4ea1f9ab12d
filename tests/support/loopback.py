"""The built-in simulators served on 127.0.0.1 ports, and the proxy configured to call them
as real hosts: the end-to-end tests then cross the production transport (aiohttp, sockets,
the pool, the origin allowlist) exactly as a deployment does, not the in-process shortcut.

The demo tenants load only while every PDT environment is the simulator, so the proxy
here gets a copy of them as ordinary tenants: same users and accounts, secrets in files.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml
from starlette.types import ASGIApp

from proxy.admin.auth import DEMO_ADMIN_TOKEN
from proxy.config import LegacyEnvironment, PdtEnvironment, Settings
from proxy.mapping.catalog import load_catalog
from proxy.simulators.legacy.accounts import accounts_from_tenants
from proxy.simulators.legacy.app import create_legacy_simulator
from proxy.simulators.pdt import create_pdt_simulator
from proxy.tenants import demo_tenants_file, load_tenants
from tests.conftest import make_settings, running_proxy

__all__ = ["loopback_proxy", "loopback_settings", "served"]


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """``app`` behind uvicorn on a free loopback port, in this event loop; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # No lifespan: the in-process transport never ran the simulators' either.
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped the server
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


def _secrets_in_files(value: Any, folder: Path, names: list[int]) -> Any:
    """``value`` with every ``{value: secret}`` replaced by ``{file: path}`` holding it."""
    if isinstance(value, dict):
        if set(value) == {"value"}:
            names.append(len(names))
            path = folder / f"secret-{len(names)}"
            path.write_text(str(value["value"]))
            return {"file": str(path)}
        return {key: _secrets_in_files(item, folder, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_secrets_in_files(item, folder, names) for item in value]
    return value


def real_tenants_file(folder: Path) -> Path:
    """The demo tenants as ordinary tenants (loadable with a real PDT host configured)."""
    folder.mkdir(parents=True, exist_ok=True)
    demo = yaml.safe_load(demo_tenants_file().read_text())
    for tenant in demo["tenants"]:
        tenant["demo"] = False
    path = folder / "tenants.yaml"
    path.write_text(yaml.safe_dump(_secrets_in_files(demo, folder, [])))
    return path


@asynccontextmanager
async def loopback_settings(tmp_path: Path, **overrides: Any) -> AsyncIterator[Settings]:
    """Settings whose PDT and legacy environments are the simulators, served on loopback."""
    base = make_settings(tmp_path, **overrides)
    catalog = load_catalog(base.mappings_dir)
    tenants_file = real_tenants_file(tmp_path / "tenants")
    tenants = load_tenants(tenants_file, known_products=frozenset(catalog.products), simulator_only=False)
    accounts = {
        credential.username: credential.password
        for tenant in tenants.tenants.values()
        for credential in tenant.credentials.values()
    }
    pdt_app = create_pdt_simulator(
        base.simulator,
        catalogue_path=base.mappings_dir / "pdt" / "insights.csv",
        accounts=accounts,
        vocabulary=catalog.pdt,
    )
    legacy_accounts, grants = accounts_from_tenants(tenants)
    legacy_app = create_legacy_simulator(
        base.legacy.simulator, catalog=catalog, accounts=legacy_accounts, grants=grants
    )
    async with served(pdt_app) as pdt_url, served(legacy_app) as legacy_url:
        pdt = base.pdt.model_copy(
            update={
                "environments": {name: PdtEnvironment(base_url=pdt_url) for name in base.pdt.environments}
            }
        )
        legacy = base.legacy.model_copy(
            update={
                "environments": {
                    name: LegacyEnvironment(base_url=legacy_url) for name in base.legacy.environments
                },
                "products": {},
            }
        )
        # The demo's admin token too, configured explicitly (with a real host it is not
        # implied): tests written for the embedded default then run here unchanged.
        security = base.security.model_copy(update={"admin_token": DEMO_ADMIN_TOKEN})
        yield base.model_copy(
            update={"tenants_file": tenants_file, "pdt": pdt, "legacy": legacy, "security": security}
        )


@asynccontextmanager
async def loopback_proxy(tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The proxy app (reached in process) calling the simulators over real sockets."""
    async with loopback_settings(tmp_path, **overrides) as settings, running_proxy(settings) as client:
        # Real hosts only: no request may take the in-process shortcut.
        assert not settings.pdt.uses_simulator
        assert not settings.legacy.uses_simulator
        yield client
