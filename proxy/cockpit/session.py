"""Signing in to the cockpit: the admin token in a strict cookie, and the form's anti-forgery token.

The cookie holds the admin token itself and is checked against ``AdminAuth`` on every
request, so a token removed from the tokens file stops working at the next click and
the role is always the file's current one. It is ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page sends it) and scoped to ``/admin/ui``;
``Secure`` whenever the request came over HTTPS. Every form that changes something
also carries a token derived from the session, so a forged form post fails even on
a browser that ignores SameSite.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from proxy.admin.auth import AdminAuth, AdminIdentity

__all__ = ["COOKIE", "LANG_COOKIE", "Session", "clear", "form_token", "remember", "session_of"]

COOKIE: Final = "pdt_cockpit"
LANG_COOKIE: Final = "pdt_cockpit_lang"
_PATH: Final = "/admin/ui"
# A working day: the migration team signs in once in the morning.
_MAX_AGE_S: Final = 12 * 3600


class Session:
    def __init__(self, identity: AdminIdentity, token: str) -> None:
        self.identity = identity
        self.token = token

    @property
    def form_token(self) -> str:
        return form_token(self.token)

    def form_token_ok(self, presented: str | None) -> bool:
        return hmac.compare_digest(self.form_token, presented or "")


def form_token(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"pdt-proxy cockpit form", hashlib.sha256).hexdigest()


def session_of(request: Request, auth: AdminAuth) -> Session | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    identity = auth.identify(f"Bearer {token}")
    return None if identity is None else Session(identity, token)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def remember(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=_MAX_AGE_S,
        path=_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path=_PATH, httponly=True, samesite="strict")
