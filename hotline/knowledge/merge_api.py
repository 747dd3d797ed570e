"""并单 over HTTP: an order's duplicate candidates, and merging several orders under a parent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.knowledge import schemas as ks
from hotline.knowledge.intake_check import DUPLICATE_CHECK
from hotline.knowledge.merging import MERGING
from hotline.web.api import ApiRoutes
from hotline.web.orders import STAFF

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["并单 Duplicates and merging"]


@routes.get("/api/v1/workorders/{number}/duplicates",
            summary="疑似重复诉求（同地点、同事项、时间相近） / Duplicate candidates", response=list[ks.CandidateOut],
            tags=TAG, extra_responses={404: "工单不存在"})
async def duplicates(request: web.Request, principal: Principal) -> list[ks.CandidateOut]:
    principal.require_role(*STAFF)
    found = await request.app[MERGING].candidates_for(request.match_info["number"])
    return [ks.CandidateOut(number=c.number, score=c.score, similarity=c.similarity, place=c.place,
                            reasons=list(c.reasons), title=c.title, hours_apart=c.hours_apart) for c in found]


@routes.get("/api/v1/workorders/{number}/intake-duplicates",
            summary="受理时发现的疑似重复诉求 / Duplicate candidates recorded at intake", response=ks.IntakeCheckOut,
            description="What the duplicate check found when the order came in, among the orders already there "
                        "(same village, or same town and road; same subject or category; within the window). "
                        "It runs right after intake's commit, never before the acknowledgement: `checked` is "
                        "false until it has reached the order.",
            tags=TAG, extra_responses={404: "工单不存在"})
async def intake_duplicates(request: web.Request, principal: Principal) -> ks.IntakeCheckOut:
    principal.require_role(*STAFF)
    return ks.IntakeCheckOut.model_validate(await request.app[DUPLICATE_CHECK].recorded(request.match_info["number"]))


@routes.post("/api/v1/knowledge/merges", summary="批量并单：并入主工单 / Merge orders under a parent",
             description="All children in one transaction or none. When the parent is replied, every merged "
                         "child is replied with it (each citizen on their own channel, each follow-up).",
             body=ks.MergeIn, response=ks.MergeOut, status=201, tags=TAG,
             extra_responses={404: "工单不存在", 409: "某件不能并单 / a child may not be merged", 422: "主工单不可用"})
async def merge(request: web.Request, principal: Principal, body: ks.MergeIn) -> ks.MergeOut:
    principal.require_role(*STAFF)
    changes = await request.app[MERGING].merge(body.parent, body.children, principal.actor)
    return ks.MergeOut(parent=body.parent, merged=[c.order.number for c in changes])
