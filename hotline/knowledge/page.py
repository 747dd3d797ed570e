"""`/knowledge`: the knowledge base in the browser (知识库管理). A server-rendered shell plus
an ES module from `static/` that talks to `/api/v1/knowledge/...` under the same session
cookie: search, the list, the entry form (a save is a new, approved version), the version
history, retiring with a reason, CSV/XLSX import and export. The roles are the API's:
supervisors and administrators write, agents read (the page shows them no write controls;
the API refuses them anyway). Without a login: a redirect to `/login?next=…`.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from hotline.errors import HotlineError
from hotline.web.auth_views import SESSION_COOKIE
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import STAFF, SUPERVISORS

STATIC = Path(__file__).resolve().parent / "static"
TITLE = ("知识库管理", "Knowledge base")
FORBIDDEN = ("无权访问：知识库只对话务员、班长和管理员开放。",
             "Not allowed: the knowledge base is for agents, supervisors and administrators.")
# Nothing from elsewhere: the page talks to this server only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _render(request: web.Request, body_template: str, *, can_write: bool = False, status: int = 200) -> web.Response:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    name = h.settings.hotline.name_en if en and h.settings.hotline.name_en else h.settings.hotline.name
    text = (STATIC / body_template).read_text(encoding="utf-8")
    text = (text.replace("{{lang}}", "en" if en else "zh-CN").replace("{{hotline}}", html.escape(name))
            .replace("{{title}}", html.escape(TITLE[en])).replace("{{forbidden}}", html.escape(FORBIDDEN[en]))
            .replace("{{can_write}}", "true" if can_write else "false"))
    return web.Response(text=text, content_type="text/html", charset="utf-8", status=status,
                        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


async def knowledge_page(request: web.Request) -> web.StreamResponse:
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
    if who.kind != "user" or who.role not in STAFF:
        return _render(request, "forbidden.html", status=403)
    return _render(request, "knowledge.html", can_write=who.role in SUPERVISORS)


def install(app: web.Application) -> None:
    app.router.add_get("/knowledge", knowledge_page)
    app.router.add_get("/knowledge/", knowledge_page)
    app.router.add_static("/knowledge/static/", STATIC, append_version=False)
