"""The admin bearer token: which one is in force, and the constant-time check.

``security.admin_token`` (``PROXY_ADMIN_TOKEN``) when set. On the embedded
defaults (every PDT environment is the built-in simulator, no real money or data
behind the proxy) it defaults to ``demo-admin-token`` so the README's commands
work; with a real PDT host and no token configured there is no token at all and
the admin API refuses every request (503): it never opens by omission.
"""

from __future__ import annotations

import hmac
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proxy.config import Settings

__all__ = ["DEMO_ADMIN_TOKEN", "admin_token", "check_admin"]

# Published on purpose, like the demo tenants' passwords: only ever in force while
# PDT is the built-in simulator.
DEMO_ADMIN_TOKEN: Final = "demo-admin-token"  # noqa: S105


def admin_token(settings: Settings) -> str | None:
    if settings.security.admin_token:
        return settings.security.admin_token
    return DEMO_ADMIN_TOKEN if settings.pdt.all_simulator else None


def check_admin(request: Request, expected: str | None) -> Response | None:
    """None when the request carries the admin token, else the JSON answer to send."""
    if expected is None:
        return JSONResponse(
            {"message": "the admin API is disabled: configure security.admin_token (PROXY_ADMIN_TOKEN)"}, 503
        )
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    # compare_digest on bytes: constant time whatever the token's content, so the
    # answer's timing says nothing about how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode("utf-8"), expected.encode("utf-8")
    ):
        return JSONResponse(
            {"message": "admin token missing or invalid"}, 401, headers={"WWW-Authenticate": "Bearer"}
        )
    return None
