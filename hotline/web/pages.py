"""The front door (`/`) and the API documentation page (`/api/docs`, Swagger UI vendored
under `static/swagger-ui/`, no CDN). Chinese first, English with ?lang=en."""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from hotline.ports import Link
from hotline.web.context import HOTLINE, lang_of

STATIC = Path(__file__).resolve().parent / "static"

# The core's own entries; each module adds its pages (`Hotline.add_link`), ranked among these.
LINKS = (
    Link("/api/docs", "接口文档（OpenAPI）", "API documentation (OpenAPI)", "integrators", 30),
    Link("/readyz", "就绪检查", "Readiness", "operators", 80),
    Link("/metrics", "Prometheus 指标", "Prometheus metrics", "operators", 90),
)


async def index(request: web.Request) -> web.Response:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    name = h.settings.hotline.name_en if en else h.settings.hotline.name
    links = sorted([*LINKS, *h.links], key=lambda link: link.rank)
    items = "\n".join(f'<li><a href="{x.path}">{html.escape(x.en if en else x.zh)}</a> <code>{x.path}</code></li>'
                      for x in links)
    intro = ("One number for every request to the county government: calls, SMS, WeChat, web, app and fax "
             "become electronic work orders, dispatched to the right department and followed up."
             if en else "拨打 12345 或通过短信、微信、网站、APP、传真提出诉求，热线统一受理为电子工单，"
             "派送承办单位办理并回访。")
    body = f"""<!doctype html><html lang="{'en' if en else 'zh-CN'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(name)}</title>
<style>body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:44rem;margin:2rem auto;
padding:0 1rem;line-height:1.6}}code{{color:#666}}</style></head><body>
<h1>{html.escape(name)}</h1><p>{html.escape(intro)}</p><ul>{items}</ul>
<p><a href="?lang={'zh' if en else 'en'}">{'中文' if en else 'English'}</a></p></body></html>"""
    return web.Response(text=body, content_type="text/html")


async def api_docs(request: web.Request) -> web.Response:
    title = html.escape(request.app[HOTLINE].settings.hotline.name)
    body = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css"></head><body><div id="api"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>"""
    return web.Response(text=body, content_type="text/html")


def install(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/api/docs", api_docs)
    app.router.add_static("/static/", STATIC, append_version=False)
