"""The department API (承办单位接口), authenticated by `X-Api-Key`.

A department sees and acts on only the orders it holds an assignment of; anything else
answers 404, exactly as a number that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from hotline import commands
from hotline.auth import Principal
from hotline.domain import workorder as wo
from hotline.errors import Forbidden
from hotline.storage.orders import list_orders, order_history
from hotline.web import schemas as s
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import ActionArgs, Build, reply_command, run_action
from hotline.web.serialize import detail, summary

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
    return s.OrderPage(items=[summary(o, now, lang_of(request)) for o in rows], next_cursor=cursor)


@routes.get("/api/v1/department/orders/{number}", summary="工单详情 / One of my orders", auth="department",
            response=s.OrderDetail, tags=TAG, extra_responses={404: "不存在或不属于本部门"})
async def my_order(request: web.Request, principal: Principal) -> s.OrderDetail:
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        hist = await order_history(session, request.match_info["number"], department=principal.department)
    return detail(hist, h.settings, h.clock(), lang_of(request), for_department=principal.department)


def _own(principal: Principal, body: s.DepartmentActionIn) -> str:
    assert principal.department is not None
    if body.department not in (None, principal.department):
        raise Forbidden("只能以本部门身份办理", code="not_your_department")
    return principal.department


ACTIONS: list[tuple[str, type[s.DepartmentActionIn],
                   Callable[[ActionArgs, str], wo.Command | Awaitable[wo.Command]], str]] = [
    ("sign", s.SignIn, lambda a, d: wo.SignFor(a.actor, d), "签收 / Sign for"),
    ("progress", s.NoteIn, lambda a, d: wo.AddProgress(a.actor, d, a.body.note), "反馈进展 / Report progress"),
    ("reply", s.ReplyIn, reply_command, "办结回复 / Reply with the result (attachments: ids from the upload endpoint)"),
    ("return", s.ReturnIn, lambda a, d: wo.ReturnOrder(a.actor, d, a.body.reason), "退单 / Return (wrong department)"),
    ("sub-dispatch", s.SubDispatchIn, lambda a, d: commands.sub_dispatch(a.ctx, a.order, a.actor, d, a.body.to,
                                                                          a.body.note),
     "下派至村/社区 / Sub-dispatch to a village"),
    ("request-extension", s.ExtensionIn,
     lambda a, d: commands.request_extension(a.ctx, a.actor, d, a.body.working_days, a.body.reason),
     "申请延期 / Request an extension"),
]


def _handler(build: Callable[[ActionArgs, str], wo.Command | Awaitable[wo.Command]]
             ) -> Callable[..., Awaitable[s.ActionOut]]:
    async def handler(request: web.Request, principal: Principal, body: s.DepartmentActionIn) -> s.ActionOut:
        dept = _own(principal, body)
        b: Build = lambda a: build(a, dept)  # noqa: E731
        return await run_action(request, principal.actor, body, b, department=dept)
    return handler


for _path, _body, _build, _summary in ACTIONS:
    _h = _handler(_build)
    _h.__name__ = "department_" + _path.replace("-", "_")
    routes.post(f"/api/v1/department/orders/{{number}}/{_path}", summary=_summary, auth="department", body=_body,
                response=s.ActionOut, tags=TAG, extra_responses={404: "不存在或不属于本部门", 409: "状态不允许"})(_h)
