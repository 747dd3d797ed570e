"""Agents' dispatch helpers: where routing would send an order and why, orders it may
duplicate (并单 candidates), and its SLA timers.

The agent's override is the ordinary `/api/v1/workorders/{number}/dispatch` with the
lead the agent chose and a `reason`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch import queries
from dispatch.routing import Facts, Match, Router, facts_of
from dispatch.service import DISPATCH
from dispatch.timers import KINDS, LEVEL_NAMES
from hotline.errors import NotFound
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import STAFF
from hotline.web.schemas import Body

if TYPE_CHECKING:
    from aiohttp import web

    from dispatch.models import Timer
    from hotline.auth import Principal
    from hotline.settings import Settings
    from hotline.storage.models import WorkOrder

routes = ApiRoutes()
TAG = ["派单 Dispatch"]


class DepartmentRef(BaseModel):
    code: str
    name: str


class Suggestion(BaseModel):
    department: DepartmentRef
    assisting: list[DepartmentRef]
    rule: int = Field(description="1-based position of the rule in config `routing`")
    reason: str
    matched: dict[str, str]


class RoutingOut(BaseModel):
    suggestion: Suggestion | None = Field(description="null: no rule matches, the agent chooses")
    alternatives: list[Suggestion] = Field(description="other matching rules' departments, in rule order")
    reason: str = Field(description="the suggestion's reason, or why there is none")


class FactsIn(Body):
    text: str = Field("", max_length=20000)
    title: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)
    category: str | None = None
    subject: str | None = None
    area: str | None = None
    legacy_line: str | None = None


def _ref(s: Settings, code: str, lang: Literal["zh", "en"]) -> DepartmentRef:
    d = s.department(code)
    name = (d.name_en or d.name) if d and lang == "en" else (d.name if d else code)
    return DepartmentRef(code=code, name=name)


def _suggestion(s: Settings, m: Match, lang: Literal["zh", "en"]) -> Suggestion:
    return Suggestion(department=_ref(s, m.department, lang), assisting=[_ref(s, c, lang) for c in m.assisting],
                      rule=m.rule, reason=m.reason_en if lang == "en" else m.reason, matched=dict(m.matched))


def routing_out(router: Router, settings: Settings, facts: Facts, lang: Literal["zh", "en"],
                exclude: tuple[str, ...] = ()) -> RoutingOut:
    found = router.candidates(facts, exclude=exclude)
    if not found:
        none = "No routing rule matches; choose the department" if lang == "en" else "没有匹配的派单规则，请人工选择承办部门"
        return RoutingOut(suggestion=None, alternatives=[], reason=none)
    first = _suggestion(settings, found[0], lang)
    return RoutingOut(suggestion=first, alternatives=[_suggestion(settings, m, lang) for m in found[1:]],
                      reason=first.reason)


async def _order(request: web.Request, number: str) -> WorkOrder:
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        order = await queries.order_by_number(session, number)
    if order is None:
        raise NotFound(f"工单 {number} 不存在", code="workorder_not_found")
    return order


@routes.get("/api/v1/workorders/{number}/routing", summary="派单建议及依据 / Where routing sends the order, and why",
            response=RoutingOut, tags=TAG, extra_responses={404: "工单不存在"})
async def routing_for_order(request: web.Request, principal: Principal) -> RoutingOut:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    order = await _order(request, request.match_info["number"])
    return routing_out(request.app[DISPATCH].router, h.settings, facts_of(order), lang_of(request))


@routes.post("/api/v1/routing/suggest", summary="按诉求内容给出派单建议 / Routing for a contact being typed",
             body=FactsIn, response=RoutingOut, tags=TAG)
async def routing_suggest(request: web.Request, principal: Principal, body: FactsIn) -> RoutingOut:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    text = " ".join(x for x in (body.title, body.text, body.address) if x)
    facts = Facts(category=body.category, subject=body.subject, area=body.area, text=text,
                  legacy_line=body.legacy_line)
    return routing_out(request.app[DISPATCH].router, h.settings, facts, lang_of(request))


# ---------------------------------------------------------------- 并单 candidates

class CandidateOut(BaseModel):
    number: str
    status: str
    title: str
    created_at: datetime
    lead_department: str | None
    why: list[str] = Field(description="same_citizen, same_subject_area, same_address")


@routes.get("/api/v1/workorders/{number}/merge-candidates",
            summary="可并单的在办工单 / Open orders this one may duplicate (并单)",
            response=list[CandidateOut], tags=TAG, extra_responses={404: "工单不存在"})
async def workorder_merge_candidates(request: web.Request, principal: Principal) -> list[CandidateOut]:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    order = await _order(request, request.match_info["number"])
    async with h.sessions() as session:
        rows = await queries.merge_candidates(session, order)
    out = []
    for o in rows:
        why = [w for w, ok in (("same_citizen", order.citizen_id is not None and o.citizen_id == order.citizen_id),
                               ("same_subject_area", bool(order.subject and order.area) and
                                o.subject == order.subject and o.area == order.area),
                               ("same_address", bool(order.address) and o.address == order.address)) if ok]
        out.append(CandidateOut(number=o.number, status=o.status, title=o.title, created_at=o.created_at,
                                lead_department=o.lead_department, why=why))
    return out


# ---------------------------------------------------------------- the agents' inbox

class HeldOut(BaseModel):
    number: str
    title: str
    channel: str
    subject: str | None
    category: str | None
    area: str | None
    created_at: datetime
    reason_code: str = Field(description="why auto-dispatch could not send it: category_required, unknown_department, ...")
    reason: str
    department: DepartmentRef = Field(description="where the matching routing rule would send it")
    rule: int = Field(description="1-based position of the matching rule in config `routing`")
    version: int


class HeldPage(BaseModel):
    items: list[HeldOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end")


class HeldQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    lang: str | None = None


@routes.get("/api/v1/dispatch/held", summary="自动派单未能派出、待话务员处理的工单 / Orders auto-dispatch matched "
            "but could not send, with the reason", query=HeldQuery, response=HeldPage, tags=TAG)
async def held_orders(request: web.Request, principal: Principal, query: HeldQuery) -> HeldPage:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        rows, cursor = await queries.held_page(session, cursor=query.cursor, limit=query.limit)
    lang = lang_of(request)
    return HeldPage(items=[HeldOut(number=o.number, title=o.title, channel=o.channel, subject=o.subject,
                                   category=o.category, area=o.area, created_at=o.created_at,
                                   reason_code=hold.reason_code, reason=hold.reason,
                                   department=_ref(h.settings, hold.department, lang), rule=hold.rule,
                                   version=o.version)
                           for hold, o in rows], next_cursor=cursor)


# ---------------------------------------------------------------- timers

class TimerOut(BaseModel):
    id: int
    kind: str
    name: str
    level: int
    level_name: str
    department: str | None
    deadline: str | None
    due_at: datetime
    fired_at: datetime | None
    cancelled_at: datetime | None


def timer_out(t: Timer, lang: Literal["zh", "en"]) -> TimerOut:
    level, zh, en = KINDS.get(t.kind, (t.level, t.kind, t.kind))
    return TimerOut(id=t.id, kind=t.kind, name=en if lang == "en" else zh, level=t.level,
                    level_name=LEVEL_NAMES.get(t.level, ("", ""))[1 if lang == "en" else 0],
                    department=t.data.get("department"), deadline=t.data.get("deadline"), due_at=t.due_at,
                    fired_at=t.fired_at, cancelled_at=t.cancelled_at)


@routes.get("/api/v1/workorders/{number}/timers", summary="时限提醒与督办记录 / The order's SLA timers",
            response=list[TimerOut], tags=TAG, extra_responses={404: "工单不存在"})
async def workorder_timers(request: web.Request, principal: Principal) -> list[TimerOut]:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    order = await _order(request, request.match_info["number"])
    async with h.sessions() as session:
        rows = await queries.timers_of(session, order.id)
    return [timer_out(t, lang_of(request)) for t in rows]
