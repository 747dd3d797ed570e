"""The agents' and supervisors' work-order API: intake, list, detail, one endpoint per transition."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline import commands
from hotline.auth import Principal
from hotline.contact import Contact, Identity
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import OPEN, UserRole
from hotline.errors import ValidationFailed
from hotline.storage.models import Attachment, WorkOrder
from hotline.storage.orders import list_orders, order_history
from hotline.web import schemas as s
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.serialize import action_out, detail, summary

routes = ApiRoutes()
TAG = ["工单 Work orders"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)
SUPERVISORS = (UserRole.SUPERVISOR, UserRole.ADMIN)


@routes.post("/api/v1/workorders", summary="受理诉求，生成工单 / Register a contact as a work order",
             body=s.NewOrderIn, response=s.IntakeOut, status=201, tags=TAG,
             description="Idempotent on (channel, external_id); external_id defaults to the "
                         "Idempotency-Key header. A repeat answers 200 with the first order's number.")
async def create_order(request: web.Request, principal: Principal, body: s.NewOrderIn) -> web.StreamResponse:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    external_id = body.external_id or request.headers.get("Idempotency-Key") or f"api-{uuid.uuid4()}"
    caller = body.caller
    sender = Identity("phone", caller.phone) if caller.phone else (
        Identity("wechat_openid", caller.wechat_openid) if caller.wechat_openid else None)
    others = tuple(i for i in (Identity("wechat_openid", caller.wechat_openid) if caller.wechat_openid else None,)
                   if i is not None and i != sender)
    contact = Contact(channel=body.channel, external_id=external_id, received_at=h.clock(), text=body.text,
                      sender=sender, other_identities=others, sender_name=caller.name, title=body.title,
                      category=body.category, subject=body.subject, area=body.area, address=body.address,
                      latitude=body.latitude, longitude=body.longitude, urgency=body.urgency,
                      confidential=body.confidential, legacy_line=body.legacy_line, draft=body.draft,
                      call_id=body.call_id, follow_up_of=body.follow_up_of,
                      raw={"entered_by": principal.id})
    result = await h.intake.receive(contact, agent_id=int(principal.id))
    out = s.IntakeOut(number=result.number, status=result.status, created=result.created,
                      appended=result.appended, repeated=result.repeated)
    return web.json_response(out.model_dump(mode="json"), status=201 if result.created else 200,
                             headers={"Location": f"/api/v1/workorders/{result.number}"})


@routes.get("/api/v1/workorders", summary="工单列表 / List work orders", query=s.OrderQuery,
            response=s.OrderPage, tags=TAG)
async def list_workorders(request: web.Request, principal: Principal, query: s.OrderQuery) -> s.OrderPage:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        rows, cursor = await list_orders(session, query.to_filter(query.department), now, cursor=query.cursor,
                                         limit=query.limit)
    lang = lang_of(request)
    return s.OrderPage(items=[summary(o, now, lang) for o in rows], next_cursor=cursor)


@routes.get("/api/v1/workorders/{number}", summary="工单详情与办理记录 / One work order with its history",
            response=s.OrderDetail, tags=TAG, extra_responses={404: "工单不存在 / not found"})
async def get_workorder(request: web.Request, principal: Principal) -> s.OrderDetail:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        hist = await order_history(session, request.match_info["number"])
    return detail(hist, h.settings, h.clock(), lang_of(request), for_department=None)


# ---------------------------------------------------------------- transitions


@dataclass(frozen=True)
class ActionArgs:
    """What a command builder gets: the locked order, its state, the caller, the body."""

    session: AsyncSession
    order: WorkOrder
    state: wo.OrderState
    actor: wo.Actor
    body: Any
    ctx: commands.Context


Build = Callable[[ActionArgs], Awaitable[wo.Command] | wo.Command]


async def run_action(request: web.Request, actor: wo.Actor, body: s.VersionedIn, build: Build, *,
                     department: str | None = None) -> s.ActionOut:
    h = request.app[HOTLINE]

    async def builder(session: AsyncSession, order: WorkOrder, state: wo.OrderState) -> wo.Command:
        args = ActionArgs(session, order, state, actor, body,
                          commands.Context(h.settings, h.calendar, h.sla, h.clock()))
        cmd = build(args)
        return await cmd if not isinstance(cmd, wo.Command) else cmd

    change = await h.orders.execute(request.match_info["number"], builder,
                                    expected_version=body.expected_version, department=department)
    return action_out(change)


def _acting_department(body: s.DepartmentActionIn) -> str:
    if not body.department:
        raise ValidationFailed("代部门操作时请填写 department（部门代码）", code="department_required")
    return body.department


async def _merge(a: ActionArgs) -> wo.Command:
    target = (await a.session.execute(select(WorkOrder.number, WorkOrder.status)
                                      .where(WorkOrder.number == a.body.into))).first()
    if target is None or target.number == a.order.number or target.status not in {x.value for x in OPEN}:
        raise ValidationFailed(f"不能并入工单 {a.body.into}：不存在、已办结或就是本工单", code="bad_merge_target")
    return wo.Merge(a.actor, target.number)


async def reply_attachments(a: ActionArgs) -> tuple[int, ...]:
    """A reply may cite only files of its own order."""
    wanted = tuple(dict.fromkeys(a.body.attachments))
    if not wanted:
        return ()
    found = set((await a.session.execute(select(Attachment.id).where(
        Attachment.id.in_(wanted), Attachment.work_order_id == a.order.id))).scalars())
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(f"附件 {', '.join(missing)} 不属于本工单，请先上传", code="bad_attachment")
    return wanted


async def reply_command(a: ActionArgs, department: str) -> wo.Command:
    return wo.Reply(a.actor, department, a.body.result, await reply_attachments(a))


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, exclude={"expected_version"})


# (path, body, roles, builder, summary)
ACTIONS: list[tuple[str, type[s.VersionedIn], tuple[UserRole, ...], Build, str]] = [
    ("register", s.EmptyIn, STAFF, lambda a: wo.Register(a.actor), "受理（草稿转正式） / Register a draft"),
    ("update", s.UpdateIn, STAFF, lambda a: commands.update_details(a.ctx, a.order, a.actor, _fields(a.body)),
     "修改工单信息 / Correct the order's details"),
    ("resolve", s.ResolveIn, STAFF, lambda a: wo.ResolveDirectly(a.actor, a.body.answer),
     "直接办结 / Resolve directly"),
    ("dispatch", s.DispatchIn, STAFF,
     lambda a: commands.dispatch(a.ctx, a.order, a.actor, a.body.lead, a.body.assisting, a.body.note, a.body.reason),
     "派单 / Dispatch to departments"),
    ("sign", s.SignIn, SUPERVISORS, lambda a: wo.SignFor(a.actor, _acting_department(a.body)),
     "代部门签收 / Sign for, on a department's behalf"),
    ("progress", s.NoteIn, STAFF, lambda a: wo.AddProgress(a.actor, a.body.department, a.body.note),
     "添加进展/备注 / Add a progress note"),
    ("sub-dispatch", s.SubDispatchIn, SUPERVISORS,
     lambda a: commands.sub_dispatch(a.ctx, a.order, a.actor, _acting_department(a.body), a.body.to, a.body.note),
     "代部门下派 / Sub-dispatch on a department's behalf"),
    ("reply", s.ReplyIn, SUPERVISORS,
     lambda a: reply_command(a, _acting_department(a.body)),
     "代部门办结回复 / Reply on a department's behalf"),
    ("return", s.ReturnIn, SUPERVISORS, lambda a: wo.ReturnOrder(a.actor, _acting_department(a.body), a.body.reason),
     "代部门退单 / Return on a department's behalf"),
    ("request-extension", s.ExtensionIn, SUPERVISORS,
     lambda a: commands.request_extension(a.ctx, a.actor, _acting_department(a.body), a.body.working_days,
                                          a.body.reason),
     "代部门申请延期 / Request an extension on a department's behalf"),
    ("review-return", s.ReviewIn, SUPERVISORS, lambda a: wo.ReviewReturn(a.actor, a.body.accept, a.body.note),
     "审核退单 / Review a return"),
    ("decide-extension", s.DecisionIn, SUPERVISORS,
     lambda a: commands.decide_extension(a.ctx, a.state, a.actor, a.body.approve, a.body.note),
     "审批延期 / Decide an extension request"),
    ("follow-up", s.FollowUpIn, STAFF, lambda a: wo.FollowUp(a.actor, a.body.note, a.body.reached, a.body.rating),
     "回访 / Follow up with the citizen"),
    ("rate", s.RateIn, STAFF, lambda a: wo.Rate(a.actor, a.body.level, a.body.comment),
     "记录满意度评价 / Record the citizen's rating"),
    ("reopen", s.ReasonIn, SUPERVISORS, lambda a: wo.Reopen(a.actor, a.body.reason), "重办 / Reopen"),
    ("merge", s.MergeIn, STAFF, _merge, "并单 / Merge into another open order"),
    ("invalidate", s.ReasonIn, STAFF, lambda a: wo.MarkInvalid(a.actor, a.body.reason),
     "标记无效/骚扰 / Mark invalid"),
    ("close", s.CloseIn, STAFF, lambda a: wo.Close(a.actor, a.body.note), "归档 / Close"),
]


def _action_handler(body_type: type[s.VersionedIn], roles: tuple[UserRole, ...], build: Build
                    ) -> Callable[..., Awaitable[s.ActionOut]]:
    async def handler(request: web.Request, principal: Principal, body: s.VersionedIn) -> s.ActionOut:
        principal.require_role(*roles)
        return await run_action(request, principal.actor, body, build)
    return handler


for _path, _body, _roles, _build, _summary in ACTIONS:
    _h = _action_handler(_body, _roles, _build)
    _h.__name__ = "workorder_" + _path.replace("-", "_")
    routes.post(f"/api/v1/workorders/{{number}}/{_path}", summary=_summary, body=_body, response=s.ActionOut,
                tags=TAG, extra_responses={404: "工单不存在", 409: "状态不允许或版本冲突 / state or version conflict"})(_h)
