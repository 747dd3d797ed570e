"""`/reports`: the supervisors' report page (报表). A server-rendered shell plus an ES module
from `static/` that reads `/api/v1/reports/kpis` under the same session cookie; the KPI
table, charts per day and per department (uPlot, the copy the desk vendors), and the
API's CSV/XLSX downloads. Without a login: a redirect to `/login?next=…`, never a JSON 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from hotline.domain.vocabulary import UserRole
from hotline.web.context import HOTLINE, lang_of
from hotline.web.shell import page_user, render_forbidden, render_shell

if TYPE_CHECKING:
    from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
ALLOWED = (UserRole.SUPERVISOR, UserRole.ADMIN)
TITLE = ("统计报表", "Reports")
FORBIDDEN = ("无权访问：报表只对班长和管理员开放。", "Not allowed: reports are for supervisors and administrators.")


def _render(request: web.Request, body_template: str) -> web.Response:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    # The hotline's own date (its time zone): the page's default period ends on it.
    today = h.clock().astimezone(h.settings.tz).date().isoformat()
    return render_shell(request, STATIC / body_template, title=TITLE[en],
                        texts={"today": today})


async def reports_page(request: web.Request) -> web.StreamResponse:
    who = await page_user(request)
    if who.kind != "user" or who.role not in ALLOWED:
        return render_forbidden(request, FORBIDDEN)
    return _render(request, "reports.html")


def install(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/", reports_page)
    app.router.add_static("/reports/static/", STATIC, append_version=False)
