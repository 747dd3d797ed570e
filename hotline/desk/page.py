"""The pages: `/agent` (the agents' desk; `/desk` too, CONTRACT's name), `/supervisor` (the
wallboard; `/wallboard` too), `/wallboard/screen` (the big screen 数据大屏, ECharts), `/admin` (users and department keys), and the staff login page `/login`.

Server-rendered shells plus ES modules from `static/` (vendored libraries under
`static/vendor/`, no CDN). A page that needs a login redirects to `/login?next=…`, never a
JSON 404; what the page then shows comes from the JSON API under the same session cookie.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hotline.desk.api import ws_url
from hotline.desk.service import DESK
from hotline.domain.vocabulary import UserRole
from hotline.web.context import HOTLINE, lang_of
from hotline.web.shell import page_user, render_forbidden, render_shell

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from hotline.ports import Hotline

STATIC = Path(__file__).resolve().parent / "static"
SUPERVISORS = (UserRole.SUPERVISOR, UserRole.ADMIN)
PAGES = {  # path: (template, roles allowed, title zh, title en)
    "agent": ("desk.html", (UserRole.AGENT, *SUPERVISORS), "坐席工作台", "Agent desk"),
    "supervisor": ("wallboard.html", SUPERVISORS, "班长监控大屏", "Supervisor wallboard"),
    "admin": ("admin.html", (UserRole.ADMIN,), "系统管理", "Administration"),
    "screen": ("screen.html", SUPERVISORS, "数据大屏", "Data screen"),
}


def _csp(request: web.Request) -> str:
    """Nothing from elsewhere but the Asterisk WebSocket the softphone registers over."""
    sip = urlsplit(ws_url(request.app[DESK], request))
    here = request.url.host or ""
    port = f":{request.url.port}" if request.url.port else ""
    ws = f"ws://{here}{port} wss://{here}{port}"
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {ws} "
            f"{sip.scheme}://{sip.netloc}; img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def _supervisor_links(h: Hotline, en: bool) -> str:
    """The other supervisors' pages the modules registered (reports, knowledge ...), for the
    wallboard's header: the desk names none itself, so a module left out leaves no dead link."""
    links = sorted((link for link in h.links if link.audience == "supervisors" and link.path != "/supervisor"),
                   key=lambda link: link.rank)
    return "".join(f'<a href="{html.escape(link.path)}">{html.escape((link.en if en else link.zh).split("（")[0].split(" (")[0])}</a> '
                   for link in links)


def _render(request: web.Request, template: str, title: str) -> web.Response:
    en = lang_of(request) == "en"
    return render_shell(request, STATIC / template, title=title, csp=_csp(request),
                        markup={"supervisor_links": _supervisor_links(request.app[HOTLINE], en)})


def _page(key: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    template, roles, zh, en = PAGES[key]

    async def handler(request: web.Request) -> web.StreamResponse:
        who = await page_user(request)
        if who.kind != "user" or who.role not in roles:
            return render_forbidden(request, (f"您的账号没有“{zh}”的权限。", f"Your account may not open the {en}."))
        return _render(request, template, en if lang_of(request) == "en" else zh)
    return handler


async def login_page(request: web.Request) -> web.Response:
    return _render(request, "login.html", "登录" if lang_of(request) != "en" else "Log in")


def install(app: web.Application) -> None:
    for key, aliases in (("agent", ("/desk",)), ("supervisor", ("/wallboard",)), ("admin", ())):
        handler = _page(key)
        for path in (f"/{key}", *aliases):
            app.router.add_get(path, handler)
            app.router.add_get(f"{path}/", handler)
    screen = _page("screen")
    for path in ("/wallboard/screen", "/supervisor/screen"):
        app.router.add_get(path, screen)
    app.router.add_get("/login", login_page)
    app.router.add_static("/desk/static/", STATIC, append_version=False)
