"""A configuration set an operator can edit during a test: a copy of mappings/ and
of the demo tenant file under tmp_path, and the settings that read them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from proxy.composition import create_app
from proxy.config import Settings, load_settings
from proxy.runtime import Runtime
from proxy.tenants import demo_tenants_file
from tests.conftest import make_settings

ADMIN = {"authorization": "Bearer demo-admin-token"}


def editable_settings(
    tmp_path: Path, *, environ: dict[str, str] | None = None, **overrides: object
) -> Settings:
    """``environ`` points at a shared database (tests.db.support.Database.environment)."""
    base = make_settings(tmp_path) if environ is None else load_settings(environ=environ)
    mappings = tmp_path / "mappings"
    if not mappings.exists():
        shutil.copytree(base.mappings_dir, mappings)
        shutil.copyfile(demo_tenants_file(), tmp_path / "tenants.yaml")
    return base.model_copy(
        update={"mappings_dir": mappings, "tenants_file": tmp_path / "tenants.yaml", **overrides}
    )


def drop_tenant(settings: Settings, tenant: str) -> None:
    """Remove ``tenant``'s block from the tenant file (blocks start with ``  - id:``)."""
    assert settings.tenants_file is not None
    text = settings.tenants_file.read_text(encoding="utf-8")
    head, *blocks = text.split("\n  - id: ")
    kept = [block for block in blocks if not block.startswith(f"{tenant}\n")]
    assert len(kept) == len(blocks) - 1
    settings.tenants_file.write_text("\n  - id: ".join([head, *kept]), encoding="utf-8")


def clone_tenant(settings: Settings, source: str, new: str) -> None:
    """Append a copy of ``source``'s block named ``new`` (same products, same secrets)."""
    assert settings.tenants_file is not None
    text = settings.tenants_file.read_text(encoding="utf-8")
    block = next(b for b in text.split("\n  - id: ")[1:] if b.startswith(f"{source}\n"))
    block = block.replace(source, new).rstrip("\n")
    settings.tenants_file.write_text(text.rstrip("\n") + f"\n  - id: {block}\n", encoding="utf-8")


@asynccontextmanager
async def app_client(
    settings: Settings, **kwargs: object
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app = create_app(settings, **kwargs)  # type: ignore[arg-type]
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://proxy.test") as client:
            yield client, app.runtime


async def login(client: httpx.AsyncClient, user: str, secret: str) -> httpx.Response:
    return await client.post("/products/v1/authentication", json={"Username": user, "Password": secret})


DT_BODY = {
    "IdentifierId": "pedido-1",
    "Document": "123.456.789-09",
    "Email": "maria@example.com",
    "Phone": {"AreaCode": "11", "Number": "988056887"},
    "ZipCode": "06454-050",
}
