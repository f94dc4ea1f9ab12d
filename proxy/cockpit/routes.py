"""The cockpit's routes under ``/admin/ui/``: pages, live fragments, the stage-change form.

``GET  /admin/ui/``                        sign-in form, or the estate once signed in
``POST /admin/ui/login`` / ``logout``      the admin token in (or out of) a strict cookie
``GET  /admin/ui/estate``                  the estate table alone (live refresh)
``GET  /admin/ui/tenants/{tenant}``        the tenant page
``GET  /admin/ui/tenants/{tenant}/live``   its figures, history and autopilot alone
``GET  /admin/ui/tenants/{tenant}/report`` the backtest report (``?internal=1`` for ours)
``POST /admin/ui/tenants/{tenant}/stage``  first a confirmation page, then (``confirm=yes``) the change
``GET  /admin/ui/static/{name}``           the stylesheet and the script

Reads need ``viewer``, stage changes ``operator``: the same roles and the same
StageControl as the JSON admin API, so the audit names the signed-in actor. Every
page is sent with a strict Content-Security-Policy: scripts and styles only from
this origin, nothing inline, no frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from proxy.admin.auth import AdminAuth, Role
from proxy.backtest.html import figures_context, render_html
from proxy.backtest.offload import backtest_off_loop
from proxy.cockpit import session as sessions
from proxy.cockpit.estate import STAGE_KINDS, EstateRow, build_row, select_rows, week_backtest
from proxy.cockpit.figures import Sources, read_autopilot, read_inputs
from proxy.cockpit.forms import FormRefused, read_form
from proxy.mapping.version import mapping_version
from proxy.migration_stage import Stage
from proxy.observability.logging import get_logger
from proxy.pages.i18n import Translator, choose_locale, translator
from proxy.pages.templates import render, static_file
from proxy.runtime import Runtime
from proxy.stages.book import StageRefused

__all__ = ["CSP", "cockpit_routes"]

_log = get_logger(__name__)

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# A report inlines its stylesheet (it is one e-mailable file) and has no script at all.
_REPORT_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STATIC: Final = {"cockpit.css": "text/css; charset=utf-8", "cockpit.js": "text/javascript; charset=utf-8"}
_ESTATE_REFRESH_S: Final = 10
_TENANT_REFRESH_S: Final = 3

Handler = Callable[[Request], Awaitable[Response]]


def _page(html: str, status: int = 200, *, csp: str = CSP) -> HTMLResponse:
    return HTMLResponse(html, status, headers={**_SECURITY_HEADERS, "Content-Security-Policy": csp})


class _Cockpit:
    def __init__(self, runtime: Runtime, auth: AdminAuth) -> None:
        self.runtime = runtime
        self.auth = auth
        self._mapping_version: str | None = None

    # -- helpers -----------------------------------------------------------------

    def _t(self, request: Request) -> Translator:
        explicit = request.query_params.get("lang") or request.cookies.get(sessions.LANG_COOKIE)
        return translator(choose_locale(explicit, request.headers.get("accept-language")))

    def _with_lang(self, request: Request, response: Response) -> Response:
        # ?lang= is remembered, so the switch holds across pages and live refreshes.
        chosen = request.query_params.get("lang")
        if chosen:
            locale = choose_locale(chosen, None)
            response.set_cookie(
                sessions.LANG_COOKIE, locale, max_age=365 * 86400, path="/admin/ui", samesite="lax"
            )
        return response

    def _message(self, request: Request, t: Translator, heading: str, text: str, status: int) -> Response:
        session = sessions.session_of(request, self.auth)
        return _page(
            render("message.html", t=t, session=session, heading=heading, text=text, back=None), status
        )

    def _signed_in(
        self, request: Request, needed: Role
    ) -> tuple[sessions.Session | None, Response | None, Translator]:
        """The session when it holds ``needed``; else the page or status to answer with."""
        t = self._t(request)
        if not self.auth.enabled:
            return None, self._message(request, t, t("disabled_title"), t("disabled_text"), 503), t
        session = sessions.session_of(request, self.auth)
        if session is None:
            return None, None, t
        if not session.identity.may(needed):
            _log.warning(
                "cockpit request refused",
                actor=session.identity.actor,
                role=session.identity.role,
                needed=needed,
                path=request.url.path,
            )
            text = t("forbidden_text", role=t("role_" + session.identity.role), needed=t("role_" + needed))
            return None, self._message(request, t, t("forbidden_title"), text, 403), t
        return session, None, t

    def _mapping(self) -> str:
        if self._mapping_version is None:
            try:
                self._mapping_version = mapping_version(self.runtime.settings.mappings_dir)
            except OSError:
                self._mapping_version = ""
        return self._mapping_version

    async def _rows(
        self, request: Request, token: str, tenants: list[Mapping[str, Any]] | None = None
    ) -> tuple[list[EstateRow], bool, bool]:
        """Every (or the given) tenant's row, whether the autopilot answered, whether every source did."""
        now = datetime.now(UTC)
        described = tenants if tenants is not None else self.runtime.stages.describe()
        sources = Sources()
        rows = []
        autopilot_seen = False
        for entry in described:
            autopilot = await read_autopilot(request, entry["tenant"], token)
            autopilot_seen = autopilot_seen or autopilot is not None
            inputs = await read_inputs(self.runtime, entry, now, sources, autopilot)
            backtest = await asyncio.to_thread(week_backtest, inputs, self.runtime.compare_rules, now)
            rows.append(build_row(inputs, backtest, now))
        return rows, autopilot_seen, sources.ledger and sources.shadow and sources.audit

    def _described(self, tenant: str) -> Mapping[str, Any] | None:
        return next((entry for entry in self.runtime.stages.describe() if entry["tenant"] == tenant), None)

    # -- sign in / out -----------------------------------------------------------

    async def login(self, request: Request) -> Response:
        t = self._t(request)
        try:
            form = await read_form(request)
        except FormRefused:
            form = {}
        token = form.get("token", "").strip()
        identity = self.auth.identify(f"Bearer {token}") if token else None
        if identity is None:
            _log.warning("cockpit sign-in refused")
            return _page(render("login.html", t=t, session=None, error=t("sign_in_refused")), 401)
        _log.info("cockpit sign-in", actor=identity.actor, role=identity.role)
        response = RedirectResponse("/admin/ui/", 303)
        sessions.remember(response, request, token)
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/admin/ui/", 303)
        sessions.clear(response)
        return response

    # -- the estate --------------------------------------------------------------

    def _estate_query(self, request: Request) -> dict[str, Any]:
        query = request.query_params
        stage = query.get("stage") or ""
        return {
            "stage": stage if stage in STAGE_KINDS else "",
            "product": query.get("product") or "",
            "sort": query.get("sort") or "",
            "desc": query.get("desc") == "1",
        }

    async def _estate_context(
        self, request: Request, session: sessions.Session, t: Translator
    ) -> dict[str, Any]:
        query = self._estate_query(request)
        rows, autopilot_seen, sources_ok = await self._rows(request, session.token)
        chosen = select_rows(
            rows,
            stage=query["stage"] or None,
            product=query["product"] or None,
            sort=query["sort"] or None,
            descending=query["desc"],
        )
        base = {
            key: value for key, value in (("stage", query["stage"]), ("product", query["product"])) if value
        }

        def sort_link(key: str) -> str:
            descending = query["sort"] == key and not query["desc"]
            return urlencode({**base, "sort": key, **({"desc": "1"} if descending else {})})

        current = {**base, **({"sort": query["sort"]} if query["sort"] else {})}
        if query["desc"]:
            current["desc"] = "1"
        return {
            "t": t,
            "session": session,
            "rows": chosen,
            "query": query,
            "query_string": urlencode(current),
            "sort_link": sort_link,
            "show_autopilot": autopilot_seen,
            "sources_ok": sources_ok,
            "stage_kinds": STAGE_KINDS,
            "all_products": sorted(self.runtime.catalog.products),
            "now": datetime.now(UTC),
            "refresh_s": _ESTATE_REFRESH_S,
        }

    async def home(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "viewer")
        if refused is not None:
            return self._with_lang(request, refused)
        if session is None:
            return self._with_lang(request, _page(render("login.html", t=t, session=None, error=None)))
        context = await self._estate_context(request, session, t)
        return self._with_lang(request, _page(render("estate.html", **context)))

    async def estate(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "viewer")
        if refused is not None:
            return refused
        if session is None:
            return Response(status_code=401)
        return _page(render("_estate_table.html", **await self._estate_context(request, session, t)))

    # -- one tenant --------------------------------------------------------------

    async def _tenant_context(
        self, request: Request, session: sessions.Session, t: Translator, described: Mapping[str, Any]
    ) -> dict[str, Any]:
        tenant = described["tenant"]
        now = datetime.now(UTC)
        sources = Sources()
        autopilot = await read_autopilot(request, tenant, session.token)
        inputs = await read_inputs(self.runtime, described, now, sources, autopilot)
        # One backtest for the row and the page's charts, computed off the loop.
        backtest = await asyncio.to_thread(week_backtest, inputs, self.runtime.compare_rules, now)
        row = build_row(inputs, backtest, now)
        return {
            "t": t,
            "session": session,
            "tenant": tenant,
            "name": described["name"],
            "products": dict(described["products"]),
            "row": row,
            "autopilot": autopilot,
            "audit": sorted(inputs.audit, key=lambda change: change.at, reverse=True),
            "internal": True,
            "sources_ok": sources.ledger and sources.shadow and sources.audit,
            "can_operate": session.identity.may("operator"),
            "now": now,
            "refresh_s": _TENANT_REFRESH_S,
            **figures_context(backtest, t),
        }

    def _unknown(self, request: Request, t: Translator) -> Response:
        tenant = request.path_params["tenant"]
        return self._message(request, t, t("not_found_title"), t("unknown_tenant", tenant=tenant), 404)

    async def tenant_page(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "viewer")
        if refused is not None:
            return self._with_lang(request, refused)
        if session is None:
            return RedirectResponse("/admin/ui/", 303)
        described = self._described(request.path_params["tenant"])
        if described is None:
            return self._unknown(request, t)
        context = await self._tenant_context(request, session, t, described)
        changed = request.query_params.get("changed")
        context["changed"] = None
        if changed:
            product, _, after = changed.partition("=")
            if product in context["products"]:
                try:
                    label = Stage.parse(after).label
                except ValueError:
                    label = None
                if label is not None:
                    kind, _, percent = label.partition(":")
                    context["changed"] = t(
                        "stage_changed", product=product, after=t("stage_" + kind, percent=percent)
                    )
        return self._with_lang(request, _page(render("tenant.html", **context)))

    async def tenant_live(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "viewer")
        if refused is not None:
            return refused
        if session is None:
            return Response(status_code=401)
        described = self._described(request.path_params["tenant"])
        if described is None:
            return self._unknown(request, t)
        return _page(
            render("_tenant_live.html", **await self._tenant_context(request, session, t, described))
        )

    async def report(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "viewer")
        if refused is not None:
            return refused
        if session is None:
            return RedirectResponse("/admin/ui/", 303)
        described = self._described(request.path_params["tenant"])
        if described is None:
            return self._unknown(request, t)
        now = datetime.now(UTC)
        since = now - timedelta(days=7)
        try:
            results = await self.runtime.stage_control.store.shadow_results(
                described["tenant"], since=since, until=now
            )
        except Exception:
            _log.exception("cockpit: shadow results not read", tenant=described["tenant"])
            return self._message(request, t, t("not_found_title"), t("sources_missing"), 503)
        backtest = await backtest_off_loop(
            described["tenant"], results, self.runtime.compare_rules, window_from=since, window_to=now
        )
        html = render_html(
            backtest,
            tenant_name=described["name"],
            products=sorted(described["products"]),
            internal=request.query_params.get("internal") == "1",
            locale=t.locale,
            mapping_version=self._mapping(),
            generated_at=now,
        )
        return _page(html, csp=_REPORT_CSP)

    # -- the stage change --------------------------------------------------------

    async def change_stage(self, request: Request) -> Response:
        session, refused, t = self._signed_in(request, "operator")
        if refused is not None:
            return refused
        if session is None:
            return RedirectResponse("/admin/ui/", 303)
        described = self._described(request.path_params["tenant"])
        if described is None:
            return self._unknown(request, t)
        try:
            form = await read_form(request)
        except FormRefused as error:
            reason = t("bad_form", reason=str(error))
            return self._message(request, t, reason, reason, 400)
        if not session.form_token_ok(form.get("form_token")):
            return self._message(request, t, t("forbidden_title"), t("form_expired"), 403)
        products: dict[str, str] = dict(described["products"])
        product = form.get("product", "")
        if product not in products:
            reason = f"product {product!r}" if product else "product"
            return self._message(request, t, t("bad_form", reason=reason), t("bad_form", reason=reason), 400)
        kind = form.get("stage", "")
        try:
            stage = Stage.parse(f"canary:{form.get('percent') or ''}" if kind == "canary" else kind)
        except ValueError as error:
            return self._message(request, t, t("bad_form", reason=""), t("bad_form", reason=str(error)), 400)
        if form.get("confirm") != "yes":
            page = render(
                "confirm.html",
                t=t,
                session=session,
                tenant=described["tenant"],
                name=described["name"],
                product=product,
                before=products[product],
                after=stage.label,
            )
            return _page(page)
        try:
            await self.runtime.stage_control.change(
                described["tenant"], product, stage, session.identity.actor
            )
        except StageRefused as error:
            return self._message(
                request, t, t("stage_refused", reason=""), t("stage_refused", reason=str(error)), 409
            )
        except Exception:
            _log.exception("cockpit: stage change not stored", tenant=described["tenant"])
            return self._message(request, t, t("stage_not_stored"), t("stage_not_stored"), 503)
        _log.info(
            "cockpit stage change",
            actor=session.identity.actor,
            tenant=described["tenant"],
            product=product,
            stage=stage.label,
        )
        where = f"/admin/ui/tenants/{described['tenant']}?" + urlencode(
            {"changed": f"{product}={stage.label}"}
        )
        return RedirectResponse(where, 303)

    # -- static files ------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        media_type = _STATIC.get(name)
        if media_type is None:
            return Response(status_code=404)
        return Response(
            static_file(name),
            media_type=media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )


def cockpit_routes(runtime: Runtime, auth: AdminAuth) -> list[Route]:
    cockpit = _Cockpit(runtime, auth)
    return [
        Route("/admin/ui/", cockpit.home, methods=["GET"]),
        Route("/admin/ui/login", cockpit.login, methods=["POST"]),
        Route("/admin/ui/logout", cockpit.logout, methods=["POST"]),
        Route("/admin/ui/estate", cockpit.estate, methods=["GET"]),
        Route("/admin/ui/tenants/{tenant}", cockpit.tenant_page, methods=["GET"]),
        Route("/admin/ui/tenants/{tenant}/live", cockpit.tenant_live, methods=["GET"]),
        Route("/admin/ui/tenants/{tenant}/report", cockpit.report, methods=["GET"]),
        Route("/admin/ui/tenants/{tenant}/stage", cockpit.change_stage, methods=["POST"]),
        Route("/admin/ui/static/{name}", cockpit.static, methods=["GET"]),
    ]
