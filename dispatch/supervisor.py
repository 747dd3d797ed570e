"""The supervisors' desk (班长/督查室): what is late, what is about to be, what waits for
them (returns, extension requests, follow-ups). Undelivered messages: `dead_letters`.

Decisions go through the ordinary work-order actions (`review-return`,
`decide-extension`); returns also have a one-step "accept and dispatch elsewhere".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch import queries
from dispatch.api import RoutingOut, routing_out
from dispatch.routing import facts_of
from dispatch.service import DISPATCH
from dispatch.sla import extended_reply_by
from hotline.domain.vocabulary import AssignmentStatus, Status, UserRole
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import SUPERVISORS
from hotline.web.schemas import ActionOut, VersionedIn
from hotline.web.serialize import action_out, status_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiohttp import web
    from sqlalchemy import ColumnElement

    from hotline.auth import Principal
    from hotline.storage.models import OrderEvent, WorkOrder

routes = ApiRoutes()
TAG = ["督办 Supervision"]


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None


class LateOrder(BaseModel):
    number: str
    title: str
    status: str
    status_name: str
    urgency: str
    lead_department: str | None
    deadline_kind: Literal["sign", "reply"]
    deadline: datetime
    hours_late: float = Field(description="negative: hours left before the deadline")
    escalation_level: int = Field(description="0 none/reminded, 1 department head told, 2 督查室 told")


class LatePage(BaseModel):
    items: list[LateOrder]
    next_cursor: str | None


def _late(o: WorkOrder, now: datetime, level: int, lang: Literal["zh", "en"], *, sign: bool) -> LateOrder:
    """One row of the overdue and due-soon lists; `sign`: the sign-for deadline is the one that counts."""
    deadline = o.sign_by if sign else o.reply_by
    assert deadline is not None
    return LateOrder(number=o.number, title=o.title, status=o.status, status_name=status_name(o.status, lang),
                     urgency=o.urgency, lead_department=o.lead_department, deadline_kind="sign" if sign else "reply",
                     deadline=deadline, hours_late=round((now - deadline).total_seconds() / 3600, 2),
                     escalation_level=level)


async def _late_page(request: web.Request, query: PageQuery, condition: ColumnElement[bool],
                     sign: Callable[[WorkOrder], bool]) -> LatePage:
    """The overdue and due-soon lists: one query, one row shape; they differ in the condition
    and in which deadline counts."""
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        rows, cursor = await queries.orders_page(session, condition, department=query.department,
                                                 cursor=query.cursor, limit=query.limit)
        levels = await queries.escalation_levels(session, [o.id for o in rows])
    lang = lang_of(request)
    return LatePage(items=[_late(o, now, levels.get(o.id, 0), lang, sign=sign(o)) for o in rows], next_cursor=cursor)


@routes.get("/api/v1/supervisor/overdue", summary="超期工单 / Overdue orders", query=PageQuery,
            response=LatePage, tags=TAG)
async def supervisor_overdue(request: web.Request, principal: Principal, query: PageQuery) -> LatePage:
    principal.require_role(*SUPERVISORS)
    now = request.app[HOTLINE].clock()

    def sign(o: WorkOrder) -> bool:
        sign_late = o.status == Status.DISPATCHED.value and o.sign_by is not None and o.sign_by < now
        return sign_late or (o.reply_by is None and o.sign_by is not None)

    return await _late_page(request, query, queries.overdue(now), sign)


class SoonQuery(PageQuery):
    within_hours: float = Field(24, gt=0, le=24 * 30)


@routes.get("/api/v1/supervisor/due-soon", summary="即将到期工单 / Orders due soon", query=SoonQuery,
            response=LatePage, tags=TAG)
async def supervisor_due_soon(request: web.Request, principal: Principal, query: SoonQuery) -> LatePage:
    principal.require_role(*SUPERVISORS)
    now = request.app[HOTLINE].clock()
    until = now + timedelta(hours=query.within_hours)
    condition = queries.due_soon(now, until)

    def sign(o: WorkOrder) -> bool:
        return o.status == Status.DISPATCHED.value and o.sign_by is not None and now <= o.sign_by < until

    return await _late_page(request, query, condition, sign)


# ---------------------------------------------------------------- returns (退单审核)

class ReturnItem(BaseModel):
    number: str
    title: str
    version: int
    department: str
    reason: str | None
    returned_at: datetime | None
    routing: RoutingOut = Field(description="where routing would send it instead (the returning department excluded)")


class ReturnPage(BaseModel):
    items: list[ReturnItem]
    next_cursor: str | None


@routes.get("/api/v1/supervisor/returns", summary="待审核退单 / Returns awaiting review", query=PageQuery,
            response=ReturnPage, tags=TAG)
async def supervisor_returns(request: web.Request, principal: Principal, query: PageQuery) -> ReturnPage:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    lang = lang_of(request)
    async with h.sessions() as session:
        rows, cursor = await queries.orders_page(session, queries.in_status(Status.RETURNED),
                                                 department=query.department, cursor=query.cursor,
                                                 limit=query.limit, assignments=True)
        events = await queries.latest_events(session, [o.id for o in rows], "returned")
    router = request.app[DISPATCH].router
    items = []
    for o in rows:
        returned = [a for a in o.assignments if a.status == AssignmentStatus.RETURNED.value]
        dept = returned[-1].department_code if returned else (o.lead_department or "")
        e = events.get(o.id)
        items.append(ReturnItem(number=o.number, title=o.title, version=o.version, department=dept,
                                reason=returned[-1].return_reason if returned else None,
                                returned_at=e.at if e else None,
                                routing=routing_out(router, h.settings, facts_of(o), lang, exclude=(dept,))))
    return ReturnPage(items=items, next_cursor=cursor)


class RedispatchIn(VersionedIn):
    lead: str = Field(description="新的主办部门")
    assisting: list[str] = Field(default_factory=list)
    note: str = Field("", max_length=2000, description="审核意见")
    reason: str = Field("", max_length=500, description="派单依据")


class RedispatchOut(BaseModel):
    review: ActionOut
    dispatch: ActionOut


@routes.post("/api/v1/supervisor/returns/{number}/redispatch",
             summary="同意退单并改派 / Accept a return and dispatch elsewhere, in one step", body=RedispatchIn,
             response=RedispatchOut, tags=TAG, extra_responses={404: "工单不存在", 409: "状态不允许或版本冲突"})
async def supervisor_redispatch(request: web.Request, principal: Principal, body: RedispatchIn) -> RedispatchOut:
    principal.require_role(*SUPERVISORS)
    review, second = await request.app[DISPATCH].accept_return_and_redispatch(
        request.match_info["number"], principal.actor, lead=body.lead, assisting=body.assisting, note=body.note,
        reason=body.reason, expected_version=body.expected_version)
    return RedispatchOut(review=action_out(review), dispatch=action_out(second))


# ---------------------------------------------------------------- extensions (延期审批)

async def _waiting(request: web.Request, query: PageQuery, status: Status,
                   kind: str) -> tuple[list[WorkOrder], str | None, dict[int, OrderEvent]]:
    """A page of the orders waiting in `status`, each with its last `kind` event (why it waits)."""
    async with request.app[HOTLINE].sessions() as session:
        rows, cursor = await queries.orders_page(session, queries.in_status(status), department=query.department,
                                                 cursor=query.cursor, limit=query.limit)
        return rows, cursor, await queries.latest_events(session, [o.id for o in rows], kind)


class ExtensionItem(BaseModel):
    number: str
    title: str
    version: int
    department: str | None
    working_days: int | None
    reason: str | None
    requested_at: datetime | None
    reply_by: datetime | None
    reply_by_if_approved: datetime | None


class ExtensionPage(BaseModel):
    items: list[ExtensionItem]
    next_cursor: str | None


@routes.get("/api/v1/supervisor/extensions", summary="待审批延期申请 / Extension requests", query=PageQuery,
            response=ExtensionPage, tags=TAG)
async def supervisor_extensions(request: web.Request, principal: Principal, query: PageQuery) -> ExtensionPage:
    principal.require_role(*SUPERVISORS)
    rows, cursor, events = await _waiting(request, query, Status.EXTENSION_REQUESTED, "extension_requested")
    calendar = request.app[DISPATCH].config.calendar
    items = []
    for o in rows:
        e = events.get(o.id)
        days = o.pending_extension_days
        items.append(ExtensionItem(
            number=o.number, title=o.title, version=o.version, department=o.lead_department, working_days=days,
            reason=e.data.get("reason") if e else None, requested_at=e.at if e else None, reply_by=o.reply_by,
            reply_by_if_approved=extended_reply_by(calendar, o.reply_by, days) if o.reply_by and days else None))
    return ExtensionPage(items=items, next_cursor=cursor)


# ---------------------------------------------------------------- follow-ups (回访)

class FollowUpItem(BaseModel):
    number: str
    title: str
    version: int = Field(description="expected_version for POST /api/v1/workorders/{number}/follow-up")
    channel: str
    lead_department: str | None
    contact_name: str | None
    contact_phone: str | None = Field(description="for click-to-call (POST /api/v1/telephony/calls/originate)")
    replied_at: datetime | None
    result: str | None = Field(description="the department's reply the citizen is asked about")
    due_at: datetime | None = Field(description="sla.follow_up_after_working_days after the reply, working days")
    due: bool
    round: int = Field(description="0 first handling, n: the n-th reopen (重办)")
    attempts: int = Field(description="calls this round that did not reach the citizen")
    last_attempt_at: datetime | None


class FollowUpPage(BaseModel):
    items: list[FollowUpItem]
    next_cursor: str | None


@routes.get("/api/v1/supervisor/follow-ups", summary="回访队列：待回访工单 / The follow-up queue",
            query=PageQuery, response=FollowUpPage, tags=TAG)
async def supervisor_follow_ups(request: web.Request, principal: Principal, query: PageQuery) -> FollowUpPage:
    """Orders a department has replied to and nobody has reached the citizen about yet (a
    citizen's own rating on SMS, WeChat, the portal or the IVR survey takes it off the queue).
    The agent records each call with `POST /api/v1/workorders/{number}/follow-up`."""
    principal.require_role(UserRole.AGENT, *SUPERVISORS)
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        rows, cursor = await queries.orders_page(session, queries.in_status(Status.REPLIED),
                                                 department=query.department, cursor=query.cursor,
                                                 limit=query.limit)
        ids = [o.id for o in rows]
        attempts = await queries.events_by_order(session, ids, "follow_up_attempted")
        replies = await queries.latest_events(session, ids, "replied")
    config = request.app[DISPATCH].config
    items = []
    for o in rows:
        due = (config.calendar.start_of_working_day_after(o.replied_at, config.rules.follow_up_after_working_days)
               if o.replied_at else None)
        tries = [e for e in attempts.get(o.id, []) if e.data.get("round", 0) == o.reopen_count]
        reply = replies.get(o.id)
        items.append(FollowUpItem(
            number=o.number, title=o.title, version=o.version, channel=o.channel, lead_department=o.lead_department,
            contact_name=o.contact_name, contact_phone=o.contact_phone, replied_at=o.replied_at,
            result=str(reply.data.get("result") or "") or None if reply else None, due_at=due,
            due=due is not None and due <= now, round=o.reopen_count, attempts=len(tries),
            last_attempt_at=tries[-1].at if tries else None))
    return FollowUpPage(items=items, next_cursor=cursor)


# ---------------------------------------------------------------- reopened orders awaiting a decision (重办)

class ReopenedItem(BaseModel):
    number: str
    title: str
    version: int
    lead_department: str | None = Field(description="the department that replied last")
    round: int
    rating: int | None = Field(description="the rating that reopened it, if it was a rating")
    reason: str | None
    words: str | None = Field(description="the citizen's own words")
    reopened_at: datetime | None


class ReopenedPage(BaseModel):
    items: list[ReopenedItem]
    next_cursor: str | None


@routes.get("/api/v1/supervisor/reopened", summary="重办待决定 / Reopened orders awaiting a supervisor's decision",
            query=PageQuery, response=ReopenedPage, tags=TAG)
async def supervisor_reopened(request: web.Request, principal: Principal, query: PageQuery) -> ReopenedPage:
    """Orders reopened more often than `followup.max_reopens` (or with no department to go
    back to). Decide with `dispatch` (another department), `resolve`, or `close` (a reason)."""
    principal.require_role(*SUPERVISORS)
    rows, cursor, events = await _waiting(request, query, Status.REOPENED, "reopened")
    items = []
    for o in rows:
        e = events.get(o.id)
        d = e.data if e else {}
        items.append(ReopenedItem(number=o.number, title=o.title, version=o.version, lead_department=o.lead_department,
                                  round=o.reopen_count, rating=d.get("rating"), reason=d.get("reason"),
                                  words=d.get("words") or None, reopened_at=e.at if e else None))
    return ReopenedPage(items=items, next_cursor=cursor)
