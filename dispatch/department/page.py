"""The plain department page (承办单位工作台) for offices without a system of their own.

One HTML page with vendored JavaScript and CSS (no CDN): it signs in with the
department's API key, kept in the browser tab's sessionStorage only, and drives the same
department API an integrated system uses. Authorization therefore lives in one place,
the API; the page holds no privilege of its own (and, sending the key as a header rather
than a cookie, cannot be driven by another site).
"""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from hotline.web.context import HOTLINE, lang_of

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"department.js": "text/javascript", "department.css": "text/css"}
# The page loads nothing from elsewhere; the API it calls is same-origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' blob: data:; "
       "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


async def page(request: web.Request) -> web.Response:
    h = request.app[HOTLINE]
    lang = lang_of(request)
    name = h.settings.hotline.name_en if lang == "en" and h.settings.hotline.name_en else h.settings.hotline.name
    text = (STATIC / "department.html").read_text(encoding="utf-8")
    text = text.replace("{{lang}}", "en" if lang == "en" else "zh-CN").replace("{{hotline}}", html.escape(name))
    return web.Response(text=text, content_type="text/html", charset="utf-8",
                        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in FILES:
        raise web.HTTPNotFound()
    return web.Response(body=(STATIC / name).read_bytes(), content_type=FILES[name], charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


def install(app: web.Application) -> None:
    app.router.add_get("/department", page)
    app.router.add_get("/department/", page)
    app.router.add_get("/department/static/{name}", static)
