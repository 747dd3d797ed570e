"""The portal's URLs under /portal/."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from channels.portal.views import HERE, Portal
from channels.web_util import client_key, read_form
from hotline.channel import handler as channel_handler
from hotline.errors import TransitionRejected
from hotline.web.context import lang_of

if TYPE_CHECKING:
    from multidict import MultiDict

    from hotline.ports import Hotline

MAX_LOOKUP_FORM = 32 * 1024  # number, last 4, a rating comment (2,000 characters percent-encoded), CSRF


def install(h: Hotline, portal: Portal) -> None:
    async def index(request: web.Request) -> web.Response:
        return portal.page(request, "submit.html", **portal._form_ctx(request))

    async def done(request: web.Request) -> web.Response:
        number = request.match_info["number"]
        if request.query.get("sig") != portal.done_sig(number):
            raise web.HTTPNotFound()
        return portal.page(request, "done.html", tab="submit", number=number, has_phone=request.query.get("p") == "1")

    async def status_form(request: web.Request) -> web.Response:
        return portal.page(request, "status.html", tab="status", number=request.query.get("number", "")[:20])

    async def _lookup(request: web.Request, number: str, last4: str, **extra: object) -> web.Response:
        lang = lang_of(request)
        view = await portal.order_view(request, number, last4)
        return portal.page(request, "status.html", status=200 if view else 404, tab="status", number=number,
                           last4=last4 if view else "", order=view, not_found=view is None,
                           levels=portal.levels(lang), **extra)

    async def _lookup_form(request: web.Request) -> tuple[MultiDict[str], str, str] | web.Response:
        """The status and rating forms: number and last 4 digits, after the CSRF token and
        the rate limit (10,000 possible last-4s: guessing is slowed down); or the refusal page."""
        t = portal._words(lang_of(request))
        form = await read_form(request, MAX_LOOKUP_FORM)
        number, last4 = str(form.get("number", "")).strip()[:20], str(form.get("last4", "")).strip()[:4]
        if not portal.csrf_ok(request, str(form.get("csrf", ""))):
            return portal.page(request, "status.html", status=403, tab="status", errors=[t["err_csrf"]])
        if not portal.lookup_limit.allow(client_key(request)):
            return portal.page(request, "status.html", status=429, tab="status", errors=[t["err_rate"]])
        return form, number, last4

    async def status(request: web.Request) -> web.Response:
        checked = await _lookup_form(request)
        if isinstance(checked, web.Response):
            return checked
        _, number, last4 = checked
        return await _lookup(request, number, last4)

    async def rate(request: web.Request) -> web.Response:
        checked = await _lookup_form(request)
        if isinstance(checked, web.Response):
            return checked
        form, number, last4 = checked
        view = await portal.order_view(request, number, last4)
        level = str(form.get("level", ""))
        if view is None or not view["can_rate"] or level not in {"1", "2", "3", "4", "5"}:
            return await _lookup(request, number, last4)
        try:
            await portal.rate(number, int(level), str(form.get("comment", "")))
        except TransitionRejected:  # rated meanwhile (another tab): show the state as it is
            return await _lookup(request, number, last4)
        return await _lookup(request, number, last4, thanks=True)

    async def root(request: web.Request) -> web.Response:
        raise web.HTTPFound("/portal/" + (f"?{request.query_string}" if request.query_string else ""))

    def add(app: web.Application) -> None:
        app.router.add_get("/portal", root)
        app.router.add_get("/portal/", index)
        app.router.add_post("/portal/submit", channel_handler(portal))
        app.router.add_get("/portal/done/{number:[0-9]{14}}", done)
        app.router.add_get("/portal/status", status_form)
        app.router.add_post("/portal/status", status)
        app.router.add_post("/portal/rate", rate)
        app.router.add_static("/portal/static/", HERE / "static", show_index=False)
    h.routes.append(add)
