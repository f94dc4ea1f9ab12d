"""Every admin API route, mounted by the app beside the operations endpoints.

The cockpit (``proxy.cockpit``) is mounted beside them, not through them: it builds on
the admin tokens (``proxy.admin.auth``), so the admin API does not import it back.
"""

from __future__ import annotations

from starlette.routing import Route

from proxy.admin.auth import AdminAuth
from proxy.admin.autopilot_routes import autopilot_routes
from proxy.admin.config_routes import config_routes
from proxy.admin.ledger_routes import ledger_routes
from proxy.admin.tenant_routes import tenant_routes
from proxy.runtime import Runtime

__all__ = ["admin_routes"]


def admin_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    return [
        *ledger_routes(runtime, auth),
        *tenant_routes(runtime, auth),
        *autopilot_routes(runtime, auth),
        *config_routes(runtime, auth),
    ]
