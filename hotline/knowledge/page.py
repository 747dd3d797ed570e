"""`/knowledge`: the knowledge base in the browser (知识库管理). A server-rendered shell plus
an ES module from `static/` that talks to `/api/v1/knowledge/...` under the same session
cookie: search, the list, the entry form (a save is a new, approved version), the version
history, retiring with a reason, CSV/XLSX import and export. The roles are the API's:
supervisors and administrators write, agents read (the page shows them no write controls;
the API refuses them anyway). Without a login: a redirect to `/login?next=…`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.web.context import lang_of
from hotline.web.orders import STAFF, SUPERVISORS
from hotline.web.shell import page_user, render_forbidden, render_shell

if TYPE_CHECKING:
    from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
TITLE = ("知识库管理", "Knowledge base")
FORBIDDEN = ("无权访问：知识库只对话务员、班长和管理员开放。",
             "Not allowed: the knowledge base is for agents, supervisors and administrators.")


def _render(request: web.Request, body_template: str, *, can_write: bool = False) -> web.Response:
    en = lang_of(request) == "en"
    return render_shell(request, STATIC / body_template, title=TITLE[en],
                        texts={"can_write": "true" if can_write else "false"})


async def knowledge_page(request: web.Request) -> web.StreamResponse:
    who = await page_user(request)
    if who.kind != "user" or who.role not in STAFF:
        return render_forbidden(request, FORBIDDEN)
    return _render(request, "knowledge.html", can_write=who.role in SUPERVISORS)


def install(app: web.Application) -> None:
    app.router.add_get("/knowledge", knowledge_page)
    app.router.add_get("/knowledge/", knowledge_page)
    app.router.add_static("/knowledge/static/", STATIC, append_version=False)
