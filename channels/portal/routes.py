"""The portal's URLs under /portal/."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from aiohttp import web

from channels.portal.views import HERE, Portal
from channels.web_util import client_key, read_form
from hotline.channel import handler as channel_handler
from hotline.errors import TransitionRejected
from hotline.web.context import lang_of

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import TypeAlias

    Handler: TypeAlias = Callable[[web.Request], Awaitable[web.Response]]

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
            told = await portal.rate(number, int(level), str(form.get("comment", "")))
        except TransitionRejected:  # rated meanwhile (another tab): show the state as it is
            return await _lookup(request, number, last4)
        return await _lookup(request, number, last4, thanks=told)

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
        link_form, link_rate = rating_link(portal)
        app.router.add_get(RATE_LINK, link_form)
        app.router.add_post(RATE_LINK, link_rate)
        app.router.add_static("/portal/static/", HERE / "static", show_index=False)
    h.routes.append(add)


RATE_LINK = "/portal/r/{number:[0-9]{14}}/{round:[0-9]{1,2}}/{sig:[0-9a-f]{16}}"


def rating_link(portal: Portal) -> tuple[Handler, Handler]:
    """The rating request's signed short link (`Portal.rate_path`): the page and its form.
    The signature stands for the number + last-4 check; it names the round, so an old
    round's link shows the order but rates nothing."""
    async def _link(request: web.Request) -> tuple[str, int] | None:
        number, round_ = request.match_info["number"], int(request.match_info["round"])
        sig = request.match_info["sig"]
        return (number, round_) if hmac.compare_digest(sig, portal.rate_sig(number, round_)) else None

    async def _link_page(request: web.Request, number: str, round_: int, **extra: object) -> web.Response:
        view = await portal.order_view(request, number, None)
        if view is not None and view["round"] != round_:
            view["can_rate"] = False  # the link of an earlier round: that round is over
        return portal.page(request, "status.html", status=200 if view else 404, tab="status", number=number,
                           order=view, not_found=view is None, levels=portal.levels(lang_of(request)),
                           rate_action=request.path, **extra)

    async def link_form(request: web.Request) -> web.Response:
        """The signed short link of the rating request (SMS, WeChat): the order, and the form."""
        found = await _link(request)
        if found is None:
            raise web.HTTPNotFound()
        return await _link_page(request, *found)

    async def link_rate(request: web.Request) -> web.Response:
        found = await _link(request)
        if found is None:
            raise web.HTTPNotFound()
        number, round_ = found
        t = portal._words(lang_of(request))
        form = await request.post()
        if not portal.csrf_ok(request, str(form.get("csrf", ""))):
            return portal.page(request, "status.html", status=403, tab="status", errors=[t["err_csrf"]])
        level = str(form.get("level", ""))
        view = await portal.order_view(request, number, None)
        if view is None or not view["can_rate"] or view["round"] != round_ or level not in {"1", "2", "3", "4", "5"}:
            return await _link_page(request, number, round_)
        try:
            told = await portal.rate(number, int(level), str(form.get("comment", "")))
        except TransitionRejected:
            return await _link_page(request, number, round_)
        return await _link_page(request, number, round_, thanks=told)

    return link_form, link_rate
