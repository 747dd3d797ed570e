"""Routing assist over HTTP: the suggested departments for an order, and for a draft the
agent is typing. Advisory: nothing here dispatches."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from hotline.knowledge import schemas as ks
from hotline.knowledge.assist import ASSIST, Suggestion, Suggestions
from hotline.ports import RoutingFacts
from hotline.web.api import ApiRoutes
from hotline.web.orders import STAFF

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal
    from hotline.settings import Settings

routes = ApiRoutes()
TAG = ["派单辅助 Routing assist"]


def _one(s: Suggestion, settings: Settings) -> ks.DepartmentSuggestionOut:
    d = next((d for d in settings.departments if d.code == s.department), None)
    return ks.DepartmentSuggestionOut(department=s.department, name=d.name if d else s.department,
                                      confidence=s.confidence, reason=s.reason)


def _out(found: Suggestions, settings: Settings) -> ks.RoutingSuggestionsOut:
    return ks.RoutingSuggestionsOut(
        source=found.source, suggestions=[_one(s, settings) for s in found.items],
        rule=_one(found.rule, settings) if found.rule else None,
        model=ks.RoutingModelOut(**asdict(found.model)) if found.model else None)


@routes.get("/api/v1/workorders/{number}/department-suggestions",
            summary="派单建议（前三，仅供参考） / Suggested departments for an order (advisory)",
            response=ks.RoutingSuggestionsOut, tags=TAG, extra_responses={404: "工单不存在"})
async def order_suggestions(request: web.Request, principal: Principal) -> ks.RoutingSuggestionsOut:
    principal.require_role(*STAFF)
    assist = request.app[ASSIST]
    return _out(await assist.for_order(request.match_info["number"]), assist.settings)


@routes.post("/api/v1/knowledge/routing/suggest", summary="按草稿推荐承办部门 / Suggested departments for a draft",
             body=ks.RoutingDraftIn, response=ks.RoutingSuggestionsOut, tags=TAG)
async def draft_suggestions(request: web.Request, principal: Principal,
                            body: ks.RoutingDraftIn) -> ks.RoutingSuggestionsOut:
    principal.require_role(*STAFF)
    assist = request.app[ASSIST]
    facts = RoutingFacts(category=body.category, subject=body.subject, area=body.area, text=body.text)
    return _out(await assist.suggest(facts), assist.settings)
