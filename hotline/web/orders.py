"""The agents' and supervisors' work-order API: intake, list, detail, one endpoint per transition."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.contact import Contact, Identity
from hotline.details import update_details
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import OPEN, UserRole
from hotline.errors import ValidationFailed
from hotline.storage.orders import attachments_of, list_orders, merge_target, order_history
from hotline.web import schemas as s
from hotline.web.actions import ActionArgs, OrderAction, add_actions
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.serialize import detail, summary

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["工单 Work orders"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)
SUPERVISORS = (UserRole.SUPERVISOR, UserRole.ADMIN)


@routes.post("/api/v1/workorders", summary="受理诉求，生成工单 / Register a contact as a work order",
             body=s.NewOrderIn, response=s.IntakeOut, status=201, tags=TAG,
             description="Idempotent on (channel, external_id); external_id defaults to the "
                         "Idempotency-Key header. A repeat answers 200 with the first order's number.",
             headers={"Idempotency-Key": (False, 200, "默认的 external_id / the default external_id")},
             repeat_status=200)
async def create_order(request: web.Request, principal: Principal, body: s.NewOrderIn) -> web.StreamResponse:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    idempotency_key = request.headers.get("Idempotency-Key")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise ValidationFailed("Idempotency-Key 须为 1–200 个字符", code="bad_idempotency_key")
    external_id = body.external_id or idempotency_key or f"api-{uuid.uuid4()}"
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


def acting_department(body: s.DepartmentActionIn) -> str:
    """A supervisor acting for a department names it."""
    if not body.department:
        raise ValidationFailed("代部门操作时请填写 department（部门代码）", code="department_required")
    return body.department


async def _merge(a: ActionArgs) -> wo.Command:
    target = await merge_target(a.session, a.body.into)
    if target is None or target.number == a.order.number or target.status not in {x.value for x in OPEN}:
        raise ValidationFailed(f"不能并入工单 {a.body.into}：不存在、已办结或就是本工单", code="bad_merge_target")
    return wo.Merge(a.actor, target.number)


async def reply_command(a: ActionArgs, department: str) -> wo.Command:
    """A reply may cite only files of its own order."""
    wanted = tuple(dict.fromkeys(a.body.attachments))
    missing = [str(i) for i in wanted if i not in await attachments_of(a.session, a.order.id, wanted)]
    if missing:
        raise ValidationFailed(f"附件 {', '.join(missing)} 不属于本工单，请先上传", code="bad_attachment")
    return wo.Reply(a.actor, department, a.body.result, wanted)


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True, exclude={"expected_version"})


# The transitions that need no deadline; dispatch adds its own (dispatch, sub-dispatch,
# extensions) to the same URLs through its API tables (`dispatch.actions`).
ACTIONS = [
    OrderAction("register", s.EmptyIn, "受理（草稿转正式） / Register a draft", lambda a: wo.Register(a.actor), STAFF),
    OrderAction("update", s.UpdateIn, "修改工单信息 / Correct the order's details",
                lambda a: update_details(a.hotline.settings, a.order, a.actor, _fields(a.body)), STAFF),
    OrderAction("resolve", s.ResolveIn, "直接办结 / Resolve directly",
                lambda a: wo.ResolveDirectly(a.actor, a.body.answer), STAFF),
    OrderAction("sign", s.SignIn, "代部门签收 / Sign for, on a department's behalf",
                lambda a: wo.SignFor(a.actor, acting_department(a.body)), SUPERVISORS),
    OrderAction("progress", s.NoteIn, "添加进展/备注 / Add a progress note",
                lambda a: wo.AddProgress(a.actor, a.body.department, a.body.note), STAFF),
    OrderAction("reply", s.ReplyIn, "代部门办结回复 / Reply on a department's behalf",
                lambda a: reply_command(a, acting_department(a.body)), SUPERVISORS),
    OrderAction("return", s.ReturnIn, "代部门退单 / Return on a department's behalf",
                lambda a: wo.ReturnOrder(a.actor, acting_department(a.body), a.body.reason), SUPERVISORS),
    OrderAction("review-return", s.ReviewIn, "审核退单 / Review a return",
                lambda a: wo.ReviewReturn(a.actor, a.body.accept, a.body.note), SUPERVISORS),
    OrderAction("follow-up", s.FollowUpIn, "回访 / Follow up with the citizen",
                lambda a: wo.FollowUp(a.actor, a.body.note, a.body.reached, a.body.rating), STAFF),
    OrderAction("rate", s.RateIn, "记录满意度评价 / Record the citizen's rating",
                lambda a: wo.Rate(a.actor, a.body.level, a.body.comment), STAFF),
    OrderAction("reopen", s.ReasonIn, "重办 / Reopen", lambda a: wo.Reopen(a.actor, a.body.reason), SUPERVISORS),
    OrderAction("merge", s.MergeIn, "并单 / Merge into another open order", _merge, STAFF),
    OrderAction("invalidate", s.ReasonIn, "标记无效/骚扰 / Mark invalid",
                lambda a: wo.MarkInvalid(a.actor, a.body.reason), STAFF),
    OrderAction("close", s.CloseIn, "归档 / Close", lambda a: wo.Close(a.actor, a.body.note), STAFF),
]
ACTION_RESPONSES = {404: "工单不存在", 409: "状态不允许或版本冲突 / state or version conflict"}
add_actions(routes, ACTIONS, base="/api/v1/workorders", name="workorder", tags=TAG, extra_responses=ACTION_RESPONSES)
