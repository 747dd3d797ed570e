"""The department API (承办单位接口), authenticated by `X-Api-Key`: who am I, my orders, one
order, the actions on it (sign, progress, reply, return, sub-dispatch, extension), and my
催办/超期/督办 notices. Files: `dispatch.department.files`; the page: `.page`.

A department sees and acts on only the orders it holds an assignment of; anything else
answers 404, exactly as a number that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch import queries
from dispatch.actions import request_extension, sub_dispatch
from dispatch.timers import KINDS, LEVEL_NAMES
from hotline.domain import workorder as wo
from hotline.errors import Forbidden, NotFound
from hotline.redaction import Audience
from hotline.storage.orders import list_orders, order_history
from hotline.web import schemas as s
from hotline.web.actions import ActionArgs, OrderAction, add_actions
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import reply_command
from hotline.web.serialize import detail, summary

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["承办部门 Departments"]


class DepartmentQuery(s.OrderQuery):
    department: None = None  # always the caller's own


@routes.get("/api/v1/department/orders", summary="本部门工单 / My department's orders", auth="department",
            query=DepartmentQuery, response=s.OrderPage, tags=TAG)
async def my_orders(request: web.Request, principal: Principal, query: DepartmentQuery) -> s.OrderPage:
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        rows, cursor = await list_orders(session, query.to_filter(principal.department), now, cursor=query.cursor,
                                         limit=query.limit)
    return s.OrderPage(items=[summary(o, now, lang_of(request), audience=Audience.DEPARTMENT) for o in rows],
                       next_cursor=cursor)


@routes.get("/api/v1/department/orders/{number}", summary="工单详情 / One of my orders", auth="department",
            response=s.OrderDetail, tags=TAG, extra_responses={404: "不存在或不属于本部门"})
async def my_order(request: web.Request, principal: Principal) -> s.OrderDetail:
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        hist = await order_history(session, request.match_info["number"], department=principal.department)
    return detail(hist, h.settings, h.clock(), lang_of(request), for_department=principal.department)


def own_department(principal: Principal, body: s.DepartmentActionIn) -> str:
    """A department acts as itself only."""
    assert principal.department is not None
    if body.department not in (None, principal.department):
        raise Forbidden("只能以本部门身份办理", code="not_your_department")
    return principal.department


def _dept(a: ActionArgs) -> str:
    assert a.department is not None  # set from the key by `own_department`
    return a.department


ACTIONS = [
    OrderAction("sign", s.SignIn, "签收 / Sign for", lambda a: wo.SignFor(a.actor, _dept(a))),
    OrderAction("progress", s.NoteIn, "反馈进展 / Report progress",
                lambda a: wo.AddProgress(a.actor, _dept(a), a.body.note)),
    OrderAction("reply", s.ReplyIn, "办结回复 / Reply with the result (attachments: ids from the upload endpoint)",
                lambda a: reply_command(a, _dept(a))),
    OrderAction("return", s.ReturnIn, "退单 / Return (wrong department)",
                lambda a: wo.ReturnOrder(a.actor, _dept(a), a.body.reason)),
    OrderAction("sub-dispatch", s.SubDispatchIn, "下派至村/社区 / Sub-dispatch to a village",
                lambda a: sub_dispatch(a, _dept(a))),
    OrderAction("request-extension", s.ExtensionIn, "申请延期 / Request an extension",
                lambda a: request_extension(a, _dept(a))),
]
add_actions(routes, ACTIONS, base="/api/v1/department/orders", name="department", tags=TAG, auth="department",
            extra_responses={404: "不存在或不属于本部门", 409: "状态不允许"}, department=own_department)


# ---------------------------------------------------------------- who am I, my notices (催办/超期/督办)

class DepartmentOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    children: list[dict[str, str]] = Field(description="villages/communities it may sub-dispatch to (下派)")


@routes.get("/api/v1/department/me", summary="本部门信息 / Who am I", auth="department", response=DepartmentOut,
            tags=TAG)
async def department_me(request: web.Request, principal: Principal) -> DepartmentOut:
    h = request.app[HOTLINE]
    en = lang_of(request) == "en"
    d = h.settings.department(principal.department or "")
    if d is None:
        raise NotFound("部门已不在目录中", code="unknown_department")
    kids = [{"code": c.code, "name": (c.name_en or c.name) if en else c.name}
            for c in h.settings.departments if c.parent == d.code and c.level == "village"]
    return DepartmentOut(code=d.code, name=(d.name_en or d.name) if en else d.name, level=d.level, parent=d.parent,
                         children=kids)


# ---------------------------------------------------------------- notices (催办/超期/督办)

class NoticeQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None


class NoticeOut(BaseModel):
    id: int
    number: str
    title: str
    kind: str
    name: str
    level: int
    level_name: str
    deadline: str | None
    fired_at: datetime


class NoticePage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None


@routes.get("/api/v1/department/notices", summary="催办、超期与督办通知 / My reminders and escalations",
            auth="department", query=NoticeQuery, response=NoticePage, tags=TAG)
async def department_notices(request: web.Request, principal: Principal, query: NoticeQuery) -> NoticePage:
    h = request.app[HOTLINE]
    lang: Literal["zh", "en"] = lang_of(request)
    async with h.sessions() as session:
        rows, cursor = await queries.notices_page(session, principal.department or "", cursor=query.cursor,
                                                  limit=query.limit)
    items = []
    for t, number, title in rows:
        assert t.fired_at is not None  # the query asked for fired ones
        _, zh, en = KINDS.get(t.kind, (t.level, t.kind, t.kind))
        items.append(NoticeOut(id=t.id, number=number, title=title, kind=t.kind, name=en if lang == "en" else zh,
                               level=t.level, level_name=LEVEL_NAMES.get(t.level, ("", ""))[lang == "en"],
                               deadline=t.data.get("deadline"), fired_at=t.fired_at))
    return NoticePage(items=items, next_cursor=cursor)
