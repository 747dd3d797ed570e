"""Media linkage's JSON API: staff enter what an outlet raised; administrators issue and
revoke partners' keys; partners read the published cases and the statistics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.contact import Contact
from hotline.domain.vocabulary import Channel, UserRole
from hotline.public.api import CasePage, PageQuery, StatsOut, StatsQuery, cases_page, stats_out, today
from hotline.public.config import OUTLETS
from hotline.public.media import MEDIA
from hotline.public.service import DISCLOSURE
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import STAFF

if TYPE_CHECKING:
    from hotline.auth import Principal
    from hotline.public.config import MediaPartner
    from hotline.public.models import MediaKey

routes = ApiRoutes()
TAG = ["媒体联动 Media linkage"]
ADMIN = {403: "需要管理员角色 / admin role required", 404: "不存在 / not found"}
KEY_HEADER = "X-Media-Key"


class PartnerOut(BaseModel):
    code: str
    name: str
    outlet: Literal["newspaper", "radio", "tv", "web"]
    outlet_name: str
    has_webhook: bool


def partner_out(p: MediaPartner, lang: str) -> PartnerOut:
    zh, en = OUTLETS[p.outlet]
    return PartnerOut(code=p.code, name=p.name_en if lang == "en" and p.name_en else p.name, outlet=p.outlet,
                      outlet_name=en if lang == "en" else zh, has_webhook=bool(p.webhook.url))


@routes.get("/api/v1/media/partners", summary="合作媒体 / Media partners", response=list[PartnerOut], tags=TAG)
async def media_partners(request: web.Request, principal: Principal) -> list[PartnerOut]:
    principal.require_role(*STAFF)
    lang = lang_of(request)
    return [partner_out(p, lang) for p in request.app[MEDIA].cfg.media_partners]


class MediaOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(max_length=64, description="合作媒体代码")
    reference: str = Field(min_length=1, max_length=150,
                           description="媒体一侧的编号（版面/期号/节目单条目）：同一编号重复提交只生成一张工单")
    programme: str = Field("", max_length=200, description="栏目、节目或版面，如《问政青山》2026-11-30")
    text: str = Field(min_length=1, max_length=20000, description="媒体反映的问题")
    title: str | None = Field(None, max_length=200)
    category: str | None = None
    subject: str | None = None
    area: str | None = None
    address: str | None = Field(None, max_length=300)
    urgency: str = "normal"


class MediaOrderOut(BaseModel):
    number: str
    status: str
    created: bool
    repeated: bool


@routes.post("/api/v1/media/orders", summary="登记媒体反映的问题（渠道 media） / Enter an issue an outlet raised",
             body=MediaOrderIn, response=MediaOrderOut, status=201, repeat_status=200, tags=TAG,
             extra_responses={403: "需要坐席角色 / staff only"})
async def media_order(request: web.Request, principal: Principal, body: MediaOrderIn) -> web.StreamResponse:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    contact = Contact(channel=Channel.MEDIA, external_id="", received_at=h.clock(), text=body.text, title=body.title,
                      category=body.category, subject=body.subject, area=body.area, address=body.address,
                      urgency=body.urgency, raw={"entered_by": principal.id})
    result = await request.app[MEDIA].enter(body.partner, body.reference, body.programme, contact,
                                            agent_id=int(principal.id))
    out = MediaOrderOut(number=result.number, status=result.status, created=result.created, repeated=result.repeated)
    return web.json_response(out.model_dump(mode="json"), status=201 if result.created else 200)



class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=200)


class KeyOut(BaseModel):
    id: int
    partner: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class KeyIssued(KeyOut):
    key: str = Field(description="只显示这一次 / shown once")


def key_out(k: MediaKey) -> KeyOut:
    return KeyOut(id=k.id, partner=k.partner, label=k.label, created_at=k.created_at, revoked_at=k.revoked_at)


@routes.post("/api/v1/media/partners/{code}/keys", summary="新建合作媒体密钥（只显示一次） / Issue a partner key (shown once)",
             body=KeyIn, response=KeyIssued, status=201, tags=TAG, extra_responses=ADMIN)
async def media_issue_key(request: web.Request, principal: Principal, body: KeyIn) -> KeyIssued:
    principal.require_role(UserRole.ADMIN)
    row, secret = await request.app[MEDIA].issue_key(request.match_info["code"], body.label)
    return KeyIssued(**key_out(row).model_dump(), key=secret)


@routes.post("/api/v1/media/keys/{id}/revoke", summary="吊销合作媒体密钥 / Revoke a partner key", response=KeyOut,
             tags=TAG, extra_responses=ADMIN)
async def media_revoke_key(request: web.Request, principal: Principal) -> KeyOut:
    principal.require_role(UserRole.ADMIN)
    return key_out(await request.app[MEDIA].revoke_key(path_id(request)))


PARTNER = {401: "X-Media-Key 无效 / invalid key"}


@routes.get("/api/v1/media/feed/cases", summary="合作媒体：公开案例 / Partner feed: published cases", auth="none",
            key="mediaKey", query=PageQuery, response=CasePage, tags=TAG, extra_responses=PARTNER)
async def media_feed_cases(request: web.Request, query: PageQuery) -> CasePage:
    await request.app[MEDIA].partner_for_key(request.headers.get(KEY_HEADER))
    return await cases_page(request, query)


@routes.get("/api/v1/media/feed/stats", summary="合作媒体：统计 / Partner feed: statistics", auth="none",
            key="mediaKey", query=StatsQuery, response=StatsOut, tags=TAG, extra_responses=PARTNER)
async def media_feed_stats(request: web.Request, query: StatsQuery) -> StatsOut:
    await request.app[MEDIA].partner_for_key(request.headers.get(KEY_HEADER))
    s = await request.app[DISCLOSURE].stats(query.period, query.date or today(request))
    return stats_out(request.app[HOTLINE].settings, s, lang_of(request))
