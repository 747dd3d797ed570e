"""`/reports`: the supervisors' report page (报表). A server-rendered shell plus an ES module
from `static/` that reads `/api/v1/reports/kpis` under the same session cookie; the KPI
table, charts per day and per department (uPlot, the copy the desk vendors), and the
API's CSV/XLSX downloads. Without a login: a redirect to `/login?next=…`, never a JSON 404.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from hotline.domain.vocabulary import UserRole
from hotline.errors import HotlineError
from hotline.web.auth_views import SESSION_COOKIE
from hotline.web.context import HOTLINE, lang_of

STATIC = Path(__file__).resolve().parent / "static"
ALLOWED = (UserRole.SUPERVISOR, UserRole.ADMIN)
TITLE = ("统计报表", "Reports")
FORBIDDEN = ("无权访问：报表只对班长和管理员开放。", "Not allowed: reports are for supervisors and administrators.")
# Nothing from elsewhere: the page talks to this server only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _render(request: web.Request, body_template: str, status: int = 200) -> web.Response:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    name = h.settings.hotline.name_en if en and h.settings.hotline.name_en else h.settings.hotline.name
    text = (STATIC / body_template).read_text(encoding="utf-8")
    text = (text.replace("{{lang}}", "en" if en else "zh-CN").replace("{{hotline}}", html.escape(name))
            .replace("{{title}}", html.escape(TITLE[en])).replace("{{forbidden}}", html.escape(FORBIDDEN[en]))
            .replace("{{today}}", h.clock().astimezone(h.settings.tz).date().isoformat()))
    return web.Response(text=text, content_type="text/html", charset="utf-8", status=status,
                        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


async def reports_page(request: web.Request) -> web.StreamResponse:
    h = request.app[HOTLINE]
    token = request.cookies.get(SESSION_COOKIE)
    who = None
    if token:
        try:
            who = await h.auth.user_for_token(token, h.clock(), via_cookie=True)
        except HotlineError:  # expired or logged out: log in again
            who = None
    if who is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    if who.kind != "user" or who.role not in ALLOWED:
        return _render(request, "forbidden.html", status=403)
    return _render(request, "reports.html")


def install(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/", reports_page)
    app.router.add_static("/reports/static/", STATIC, append_version=False)
