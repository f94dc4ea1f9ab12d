"""The live configuration: reload it, and see which set this replica runs.

``POST /admin/reload``  (admin) load, check and swap the tenant file, mappings,
                        prices and comparison rules; 200 with the new version and
                        hashes (``changed`` says whether anything did), 422 with
                        ``{file, rule, reason}`` when the set is refused (the running
                        set stays). Every replica follows through the database.
``GET  /admin/config``  (viewer) this replica's version, content hashes, loaded-at,
                        followed generation, last reload and the recent reload audit.

The reload is audited with the token's actor (the reload audit in the state store).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth
from proxy.live.reloader import ConfigReloader
from proxy.observability.logging import get_logger
from proxy.runtime import Runtime
from proxy.state.records import ConfigReload

__all__ = ["config_routes"]

_log = get_logger(__name__)


def _audit_json(entry: ConfigReload) -> dict[str, object]:
    return {
        "generation": entry.generation,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "trigger": entry.trigger,
        "outcome": entry.outcome,
        "version": entry.version,
        "detail": entry.detail,
    }


def config_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    def reloader() -> ConfigReloader | Response:
        if runtime.reloader is None:
            return JSONResponse({"message": "live configuration is not available in this process"}, 503)
        return runtime.reloader

    async def reload(request: Request) -> Response:
        identity = auth.check(request, "admin")
        if isinstance(identity, Response):
            return identity
        found = reloader()
        if isinstance(found, Response):
            return found
        outcome = await found.reload(actor=identity.actor, trigger="api")
        return JSONResponse(outcome.to_json(), 200 if outcome.ok else 422)

    async def config(request: Request) -> Response:
        identity = auth.check(request, "viewer")
        if isinstance(identity, Response):
            return identity
        found = reloader()
        if isinstance(found, Response):
            return found
        described = found.describe()
        try:
            described["reloads"] = [
                _audit_json(entry) for entry in await runtime.state.reload_audit(limit=20)
            ]
        except Exception:
            # This replica's own set is still worth showing without the shared audit.
            _log.warning("reload audit not read", exc_info=True)
            described["reloads"] = None
        return JSONResponse(described)

    return [
        Route("/admin/reload", reload, methods=["POST"]),
        Route("/admin/config", config, methods=["GET"]),
    ]
