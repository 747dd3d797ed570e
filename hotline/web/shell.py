"""What every staff page (desk, wallboard, reports, knowledge base ...) does before its own
ES module takes over: find the user from the session cookie or send them to the login page,
and serve the page's HTML shell with the hotline's name, the language and the security
headers. One place, so a change to sessions or headers reaches every page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from hotline.errors import HotlineError
from hotline.web.auth_views import SESSION_COOKIE
from hotline.web.context import HOTLINE, lang_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hotline.auth import Principal

FORBIDDEN = Path(__file__).resolve().parent / "forbidden.html"
# A page that talks to this server only.
SELF_ONLY_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                 "img-src 'self' data: blob:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                 "base-uri 'none'")


async def cookie_user(request: web.Request) -> Principal | None:
    """The signed-in user of the session cookie; None without one, or when it expired or was logged out."""
    h = request.app[HOTLINE]
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await h.auth.user_for_token(token, h.clock(), via_cookie=True)
    except HotlineError:  # expired or logged out: log in again
        return None


async def page_user(request: web.Request) -> Principal:
    """The signed-in user, or a redirect to the login page that comes back here."""
    who = await cookie_user(request)
    if who is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    return who


def render_shell(request: web.Request, template: Path, *, title: str, csp: str = SELF_ONLY_CSP,
                 texts: Mapping[str, str] | None = None, markup: Mapping[str, str] | None = None,
                 status: int = 200) -> web.Response:
    """`template` with {{lang}}, {{hotline}}, {{title}} and the page's own `texts` (escaped)
    and `markup` (HTML the page built itself) filled in."""
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    name = h.settings.hotline.name_en if en and h.settings.hotline.name_en else h.settings.hotline.name
    values = {"lang": "en" if en else "zh-CN", "hotline": html.escape(name), "title": html.escape(title),
              **{k: html.escape(v) for k, v in (texts or {}).items()}, **(markup or {})}
    text = template.read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return web.Response(text=text, content_type="text/html", charset="utf-8", status=status,
                        headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def render_forbidden(request: web.Request, reason: tuple[str, str]) -> web.Response:
    """403 for a signed-in user whose role may not open the page: why (中文, English), and a
    way to log in as someone else that comes back here."""
    en = lang_of(request) == "en"
    return render_shell(request, FORBIDDEN, title="Not allowed" if en else "无权访问", status=403,
                        texts={"reason": reason[en], "login": f"/login?next={quote(request.path_qs, safe='')}",
                               "login_text": "Log in as someone else" if en else "换个账号登录",
                               "home_text": "Home" if en else "首页"})
