"""The public FAQ (常见问题) on the citizens' portal: `/portal/faq`, Chinese first, `?lang=en`.

Only entries marked public and valid today are shown, and only their question, answer,
policy source and the answering department: never who approved them, never a draft or a
retired entry. Entries hold no personal data (they are written for everybody), so the
page needs no masking. Search uses the same index as the agents'.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from hotline.knowledge import queries
from hotline.web.context import LANG_COOKIE, lang_of

if TYPE_CHECKING:
    from hotline.knowledge.service import KnowledgeBase
    from hotline.ports import Hotline

HERE = Path(__file__).resolve().parent
WORDS = {
    "zh": {"title": "常见问题", "search": "搜索", "placeholder": "输入您的问题，如：在外地看病怎么报销",
           "none": "没有找到相关问题，您可以拨打热线或在线提交诉求。", "source": "政策依据", "department": "解释部门",
           "lang_switch": "English", "submit_tab": "我要反映", "status_tab": "进度查询", "results": "搜索结果",
           "all": "全部问题", "footer": "本平台受理非紧急类政务服务诉求", "note": ""},
    "en": {"title": "FAQ", "search": "Search", "placeholder": "Your question, e.g. medical treatment elsewhere",
           "none": "Nothing found; call the hotline or submit a request online.", "source": "Policy basis",
           "department": "Answered by", "lang_switch": "中文", "submit_tab": "Report", "status_tab": "Track",
           "results": "Results", "all": "All questions", "footer": "For non-emergency government service requests",
           "note": "Answers are given in Chinese, as the departments publish them."},
}


def install(h: Hotline, kb: KnowledgeBase) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))

    async def faq(request: web.Request) -> web.Response:
        lang = lang_of(request)
        q = request.query.get("q", "").strip()[:200]
        if q:
            hits = await kb.search(q, limit=kb.cfg.faq.per_page, public_only=True)
            items = [{"question": x.question, "answer": x.answer, "source": x.policy_source,
                      "department": x.department_name} for x in hits]
        else:
            async with kb.sessions() as session:
                rows = await queries.public_entries(session, kb.today(), limit=kb.cfg.faq.per_page)
            items = [{"question": e.question, "answer": e.answer, "source": e.policy_source,
                      "department": kb.department_name(e.department)} for e in rows]
        other = "zh" if lang == "en" else "en"
        html = env.get_template("faq.html").render(
            t=WORDS[lang], lang=lang, q=q, items=items, hotline_name=h.settings.hotline.name if lang == "zh"
            else (h.settings.hotline.name_en or h.settings.hotline.name), hotline_number=h.settings.hotline.number,
            lang_href="/portal/faq?" + urlencode({"lang": other, **({"q": q} if q else {})}))
        resp = web.Response(text=html, content_type="text/html")
        if request.query.get("lang") in ("zh", "en"):
            resp.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax")
        return resp

    def add(app: web.Application) -> None:
        app.router.add_get("/portal/faq", faq)
    h.add_routes(add)
