"""The public pages (政务公开) in the portal's look: the published cases, one case with its
approved comments and a comment form, the statistics, and the RSS feed. Chinese first,
`?lang=en` switches (the same cookie as the portal)."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jinja2
from aiohttp import web

from hotline.errors import HotlineError
from hotline.public import feed, queries
from hotline.public.api import case_out, stats_out, today
from hotline.public.directory import DIRECTORY
from hotline.public.directory_api import found_out
from hotline.public.service import DISCLOSURE, Period
from hotline.settings.secret import ensure_secret_key
from hotline.web.boundary import clean_text, xml_safe
from hotline.web.clients import client_address
from hotline.web.context import LANG_COOKIE, lang_of

if TYPE_CHECKING:
    from hotline.ports import Hotline

HERE = Path(__file__).resolve().parent
CSRF_COOKIE = "hotline_public_csrf"
MAX_FORM = 32 * 1024

ZH = {"title": "政务公开", "cases": "公开", "cases_title": "办理公开", "stats": "统计", "stats_title": "统计数据", "feed": "订阅 RSS", "lang_switch": "English",
      "portal": "我要反映", "track": "进度查询", "question": "诉求", "answer": "办理结果", "department": "承办单位",
      "asked": "受理日期", "closed": "办结日期", "rating": "满意度", "location": "位置", "none": "暂无公开案例",
      "comments": "市民评论", "no_comments": "暂无评论", "comment": "发表评论（审核后显示，个人信息将自动隐去）",
      "send": "提交评论", "sent": "评论已提交，审核通过后显示。", "more": "下一页", "channel": "渠道", "contacts": "受理量",
      "top": "热点诉求", "subject": "分类", "orders": "工单数", "on_time": "按时办结率", "satisfaction": "满意率",
      "month": "本月", "day": "今日", "period": "统计期间", "err_csrf": "页面已过期，请刷新后重新提交。",
      "footer": "本平台受理非紧急类政务服务诉求", "back": "返回列表",
      "feed_desc": "12345 热线诉求办理情况公开（已隐去个人信息）", "services": "便民",
      "services_title": "便民服务", "services_intro": "查找附近的便民服务企业（维修、开锁、家政、搬家等），或拨打 12345 由话务员为您转交。",
      "service_type": "服务类型", "area": "所在镇/村", "any_area": "不限", "find": "查找", "member": "加盟会员",
      "hours": "营业时间", "phone": "电话", "minutes": "约 {n} 分钟", "price": "收费指导",
      "none_found": "暂无符合条件的企业", "my_location": "使用我的位置", "near_me": "我的位置附近",
      "by_distance": "{n} 分钟内可到的企业，由近及远（估算：直线距离 × 道路系数 ÷ 车速）",
      "err_location": "位置无效，请重新选择所在镇/村或使用我的位置。", "no_geo": "无法获取您的位置，请选择所在镇/村。"}
EN = {"title": "Disclosure", "cases": "Cases", "cases_title": "Published cases", "stats": "Statistics",
      "stats_title": "Statistics", "feed": "RSS feed",
      "lang_switch": "中文", "portal": "Report", "track": "Track", "question": "Request", "answer": "Result",
      "department": "Handled by", "asked": "Received", "closed": "Closed", "rating": "Satisfaction",
      "location": "Location", "none": "No published cases yet", "comments": "Citizens' comments",
      "no_comments": "No comments yet", "comment": "Comment (shown after moderation; personal details are hidden)",
      "send": "Send comment", "sent": "Thank you: your comment is shown once approved.", "more": "Next page",
      "channel": "Channel", "contacts": "Contacts", "top": "Top subjects", "subject": "Subject", "orders": "Orders",
      "on_time": "On time", "satisfaction": "Satisfied", "month": "This month", "day": "Today", "period": "Period",
      "err_csrf": "The page has expired; reload it and submit again.",
      "footer": "For non-emergency government service requests", "back": "Back to the list",
      "feed_desc": "How the 12345 hotline handled citizens' requests (personal details hidden)",
      "services": "Services", "services_title": "Local services",
      "services_intro": "Find a nearby service company (repairs, locks, housekeeping, moving…), or call 12345.",
      "service_type": "Service", "area": "Town / village", "any_area": "Any", "find": "Find",
      "member": "Member", "hours": "Hours", "phone": "Phone", "minutes": "about {n} min",
      "price": "Price guidance", "none_found": "No company found", "my_location": "Use my location",
      "near_me": "near my location",
      "by_distance": "Companies within {n} minutes, nearest first (estimate: straight line × road factor ÷ speed)",
      "err_location": "That location is not valid; pick your town/village or use your location.",
      "no_geo": "Your location is not available; pick your town/village."}
CHANNELS = {"phone": ("电话", "Phone"), "sms": ("短信", "SMS"), "wechat": ("微信", "WeChat"), "web": ("网站", "Web"),
            "app": ("App", "App"), "fax": ("传真", "Fax"), "media": ("媒体", "Media")}


class Pages:
    def __init__(self, h: Hotline) -> None:
        self.h = h
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                      autoescape=jinja2.select_autoescape(["html"]),
                                      finalize=lambda v: type(v)(xml_safe(v)) if isinstance(v, str) else v)
        self.secret = ensure_secret_key(h.settings).encode()

    # CSRF: a signed double submit (the cookie holds nonce.signature, the form repeats it).
    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, f"public-csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]

    def _token(self, request: web.Request) -> str:
        existing = request.cookies.get(CSRF_COOKIE, "")
        nonce, _, sig = existing.partition(".")
        if nonce and hmac.compare_digest(sig, self._sign(nonce)):
            return existing
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._sign(nonce)}"

    def csrf_ok(self, request: web.Request, submitted: str) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        return bool(submitted) and self._token(request) == cookie and hmac.compare_digest(cookie, submitted)

    def render(self, request: web.Request, template: str, *, status: int = 200, **ctx: Any) -> web.Response:
        lang = lang_of(request)
        s = self.h.settings
        token = self._token(request)
        other = "zh" if lang == "en" else "en"
        # A page with an inline script (the services page's "my location") allows that one
        # script by a per-response nonce; everything else stays 'self' only.
        nonce = ctx.get("nonce")
        csp = "default-src 'self'" + (f"; script-src 'self' 'nonce-{nonce}'" if nonce else "")
        html = self.env.get_template(template).render(
            lang=lang, t=EN if lang == "en" else ZH, csrf=token,
            hotline_name=s.hotline.name_en if lang == "en" else s.hotline.name, hotline_number=s.hotline.number,
            lang_href=str(request.rel_url.update_query(lang=other)) if request.method == "GET" else f"/public/?lang={other}",
            **ctx)
        resp = web.Response(text=html, status=status, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                     "Content-Security-Policy": csp})
        resp.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Lax", path="/public")
        if request.query.get("lang") in ("zh", "en"):
            resp.set_cookie(LANG_COOKIE, request.query["lang"], samesite="Lax", max_age=365 * 86400)
        return resp

    async def index(self, request: web.Request) -> web.Response:
        cursor = request.query.get("cursor") or None
        try:
            async with self.h.sessions() as session:
                rows, nxt = await queries.visible_page(session, cursor, 20)
        except HotlineError:  # a forged cursor: the first page
            raise web.HTTPFound("/public/") from None
        lang = lang_of(request)
        return self.render(request, "public_list.html", tab="cases",
                           cases=[case_out(self.h.settings, c, lang) for c in rows], next_cursor=nxt)

    async def case(self, request: web.Request, *, sent: bool = False, status: int = 200,
                   errors: list[str] | None = None) -> web.Response:
        number = request.match_info["number"]
        async with self.h.sessions() as session:
            c = await queries.visible_case(session, number)
            comments = await queries.approved_comments(session, c.id) if c else []
        if c is None:
            raise web.HTTPNotFound()
        return self.render(request, "public_case.html", status=status, tab="cases",
                           case=case_out(self.h.settings, c, lang_of(request)), comments=comments,
                           sent=sent or request.query.get("sent") == "1", errors=errors or [],
                           max_chars=request.app[DISCLOSURE].cfg.comment_max_chars)

    async def comment(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        t = EN if lang_of(request) == "en" else ZH
        if request.content_type != "application/x-www-form-urlencoded":
            raise web.HTTPUnsupportedMediaType()
        raw = await request.content.read(MAX_FORM + 1)
        if len(raw) > MAX_FORM:
            raise web.HTTPRequestEntityTooLarge(MAX_FORM, len(raw))
        try:
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=8))
        except (UnicodeDecodeError, ValueError):
            raise web.HTTPBadRequest() from None
        if not self.csrf_ok(request, form.get("csrf", "")):
            return await self.case(request, status=403, errors=[t["err_csrf"]])
        try:
            await request.app[DISCLOSURE].comment(number, clean_text(form.get("text", "")), client_address(request))
        except HotlineError as exc:
            if exc.status == 404:
                raise web.HTTPNotFound() from None
            detail = exc.title_en if lang_of(request) == "en" else exc.detail
            return await self.case(request, status=exc.status, errors=[detail])
        raise web.HTTPSeeOther(f"/public/cases/{number}?sent=1")

    async def stats(self, request: web.Request) -> web.Response:
        period: Period = "day" if request.query.get("period") == "day" else "month"
        s = await request.app[DISCLOSURE].stats(period, today(request))
        lang = lang_of(request)
        out = stats_out(self.h.settings, s, lang)
        channels = [(CHANNELS.get(c, (c, c))[1 if lang == "en" else 0], n)
                    for c, n in sorted(out.contacts_by_channel.items(), key=lambda kv: -kv[1])]
        return self.render(request, "public_stats.html", tab="stats", stats=out, channels=channels, period=period,
                           last_day=out.end - timedelta(days=1))

    async def services(self, request: web.Request) -> web.Response:
        lang = lang_of(request)
        t = EN if lang == "en" else ZH
        d = request.app[DIRECTORY]
        s = self.h.settings
        types = [{"code": st.code, "name": st.name_en if lang == "en" and st.name_en else st.name}
                 for st in d.cfg.service_types]
        areas = [{"code": a.code, "label": a.name_en if lang == "en" and a.name_en else a.name}
                 for a in s.departments if a.level in ("town", "village")]
        chosen_type = request.query.get("type") if request.query.get("type") in d.types else None
        chosen_area = request.query.get("area") if request.query.get("area") in {a["code"] for a in areas} else None
        # Where the 15-minute circle starts: the citizen's own location (the page's "my location"
        # button), else the chosen town's/village's reference point; without either, no circle.
        try:
            mine = _point(request.query.get("lat"), request.query.get("lon"))
        except ValueError:
            return self.render(request, "public_services.html", status=400, tab="services", types=types,
                               areas=areas, chosen_type=chosen_type, chosen_area=chosen_area, searched=False,
                               found=[], errors=[t["err_location"]], nonce=secrets.token_urlsafe(12))
        ref = d.cfg.area_locations.get(chosen_area) if chosen_area else None
        origin = mine or ((ref.lat, ref.lon) if ref else None)
        found = []
        if chosen_type:
            lat, lon = origin if origin else (None, None)
            hits = await d.search(chosen_type, lat, lon, chosen_area, None)
            if origin and chosen_area:
                # A company that serves the chosen area but gave no coordinates has no estimate:
                # listed after the circle rather than hidden from the citizen of that area.
                hits += [f for f in await d.search(chosen_type, None, None, chosen_area, None)
                         if f.company.latitude is None or f.company.longitude is None]
            found = [found_out(f) for f in hits]
        return self.render(request, "public_services.html", tab="services", types=types, areas=areas,
                           chosen_type=chosen_type, chosen_area=chosen_area, searched=chosen_type is not None,
                           found=found, mine=mine, by_distance=origin is not None, circle=d.cfg.circle_minutes,
                           errors=[], nonce=secrets.token_urlsafe(12))

    async def rss(self, request: web.Request) -> web.Response:
        lang = lang_of(request)
        t = EN if lang == "en" else ZH
        s = self.h.settings
        base = (s.http.public_url or f"{request.scheme}://{request.host}").rstrip("/")
        async with self.h.sessions() as session:
            rows, _ = await queries.visible_page(session, None, request.app[DISCLOSURE].cfg.feed_items)
        items = []
        for c in rows:
            out = case_out(s, c, lang)
            items.append(feed.Item(title=out.title or out.number, link=f"{base}/public/cases/{c.number}",
                                   guid=f"{base}/public/cases/{c.number}", published=c.published_at,
                                   description=f"{t['question']}：{out.question}\n{t['answer']}：{out.answer}",
                                   category=out.department_name))
        name = s.hotline.name_en if lang == "en" else s.hotline.name
        body = feed.rss(f"{name} · {t['title']}", f"{base}/public/", t["feed_desc"], "en" if lang == "en" else "zh-cn",
                        rows[0].published_at if rows else self.h.clock(), items)
        return web.Response(body=body, content_type="application/rss+xml", charset="utf-8",
                            headers={"Cache-Control": "public, max-age=300"})


def install(h: Hotline, app: web.Application) -> None:
    pages = Pages(h)
    app.router.add_get("/public", _to_index)
    app.router.add_get("/public/", pages.index)
    app.router.add_get("/public/cases/{number:[0-9]{1,20}}", pages.case)
    app.router.add_post("/public/cases/{number:[0-9]{1,20}}/comment", pages.comment)
    app.router.add_get("/public/stats", pages.stats)
    app.router.add_get("/public/services", pages.services)
    app.router.add_get("/public/feed.rss", pages.rss)


def _point(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    """The citizen's location from the query: None when not given; ValueError when not a real point."""
    if not lat and not lon:
        return None
    la, lo = float(lat or ""), float(lon or "")
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise ValueError("not a point on Earth")
    return la, lo


async def _to_index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/public/" + (f"?{request.query_string}" if request.query_string else ""))
