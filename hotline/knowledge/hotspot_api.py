"""热点预警 over HTTP: the open alerts (the wallboard reads them, and listens on the live bus
for `hotspot`), and the one action that merges a burst under its parent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from hotline.errors import NotFound
from hotline.knowledge.watch import HOTSPOTS
from hotline.web.api import ApiRoutes
from hotline.web.orders import STAFF, SUPERVISORS

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["热点预警 Hotspots"]


class AlertOut(BaseModel):
    id: int
    place: str
    place_name: str
    matter: str
    matter_name: str
    by: str = Field(description="place_matter: one place × one subject; text: similar texts, whatever the "
                                "subject and area (matter is text:<one of them>)")
    status: str
    count: int
    usual: float = Field(description="the usual orders per window over the baseline days")
    window_minutes: int
    first_at: str
    last_at: str
    parent: str | None
    orders: list[str]


class AlertQuery(BaseModel):
    status: str | None = Field("open", pattern=r"^(open|merged|closed)$")
    limit: int = Field(50, ge=1, le=500)


class MergedOut(BaseModel):
    id: int
    parent: str
    merged: list[str]


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"热点预警 {raw} 不存在", code="hotspot_not_found")
    return int(raw)


@routes.get("/api/v1/hotspots", summary="热点预警 / Hotspot alerts (open by default)", query=AlertQuery,
            response=list[AlertOut], tags=TAG)
async def list_alerts(request: web.Request, principal: Principal, query: AlertQuery) -> list[dict[str, Any]]:
    principal.require_role(*STAFF)
    return await request.app[HOTSPOTS].list(query.status, query.limit)


@routes.post("/api/v1/hotspots/{id}/merge", summary="一键并单：以首件为主工单并入其余 / Merge the burst",
             response=MergedOut, status=201, tags=TAG,
             extra_responses={404: "预警不存在", 409: "已处理 / done already", 422: "无可并工单"})
async def merge_alert(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*SUPERVISORS)
    return await request.app[HOTSPOTS].merge(_id(request), principal.actor)


@routes.post("/api/v1/hotspots/{id}/close", summary="关闭预警（不并单） / Close without merging", status=204,
             tags=TAG, extra_responses={404: "预警不存在"})
async def close_alert(request: web.Request, principal: Principal) -> None:
    principal.require_role(*SUPERVISORS)
    await request.app[HOTSPOTS].close(_id(request))
