"""One citizen across channels (一人多渠道): the agent's view of everything a person sent,
on every channel, and linking an identity confirmed on the phone."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from channels import queries
from channels.identity import APP_USER, PHONE, WECHAT, normalise_phone
from hotline.contact import Identity
from hotline.domain.vocabulary import UserRole
from hotline.errors import Conflict, NotFound, ValidationFailed
from hotline.storage.queries import find_citizen, link_identity
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["市民 Citizens"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)
KINDS = (PHONE, WECHAT, APP_USER, "email")


class IdentityOut(BaseModel):
    kind: str
    value: str
    since: datetime


class TimelineEntry(BaseModel):
    at: datetime
    channel: str
    text: str
    number: str | None = Field(description="The order the contact belongs to; null for 查询/退订 messages")


class OrderRef(BaseModel):
    number: str
    status: str
    channel: str
    title: str
    created_at: datetime


class CitizenOut(BaseModel):
    id: int
    name: str | None
    identities: list[IdentityOut]
    orders: list[OrderRef]
    timeline: list[TimelineEntry]


class FindQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str | None = None
    wechat_openid: str | None = None


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(description="phone | wechat_openid | app_user | email")
    value: str = Field(min_length=1, max_length=200)


def _identity(kind: str, value: str) -> Identity:
    if kind not in KINDS:
        raise ValidationFailed(f"kind 须为 {', '.join(KINDS)} 之一", code="bad_identity_kind")
    if kind == PHONE:
        phone = normalise_phone(value)
        if not phone:
            raise ValidationFailed("电话号码格式不正确", code="bad_phone")
        return Identity(PHONE, phone)
    return Identity(kind, value.strip())


async def _view(request: web.Request, citizen_id: int) -> CitizenOut:
    async with request.app[HOTLINE].sessions() as session:
        view = await queries.citizen_view(session, citizen_id)
    if view is None:
        raise NotFound(f"市民 {citizen_id} 不存在", code="citizen_not_found")
    return CitizenOut(
        id=view.citizen.id, name=view.citizen.name,
        identities=[IdentityOut(kind=i.kind, value=i.value, since=i.created_at) for i in view.identities],
        orders=[OrderRef(number=o.number, status=o.status, channel=o.channel, title=o.title, created_at=o.created_at)
                for o in view.orders],
        timeline=[TimelineEntry(at=c.received_at, channel=c.channel, text=c.text, number=n) for c, n in view.contacts])


@routes.get("/api/v1/citizens", summary="按身份查找市民 / Find a citizen by phone or openid", query=FindQuery,
            response=CitizenOut, tags=TAG, extra_responses={404: "未找到"})
async def find(request: web.Request, principal: Principal, query: FindQuery) -> CitizenOut:
    principal.require_role(*STAFF)
    ids = [_identity(PHONE, query.phone)] if query.phone else []
    ids += [_identity(WECHAT, query.wechat_openid)] if query.wechat_openid else []
    if not ids:
        raise ValidationFailed("请给出 phone 或 wechat_openid", code="identity_required")
    async with request.app[HOTLINE].sessions() as s:
        cid = await find_citizen(s, ids)
    if cid is None:
        raise NotFound("未找到该市民", code="citizen_not_found")
    return await _view(request, cid)


@routes.get("/api/v1/citizens/{id}", summary="市民跨渠道时间线 / A citizen's timeline on every channel",
            response=CitizenOut, tags=TAG, extra_responses={404: "未找到"})
async def timeline(request: web.Request, principal: Principal) -> CitizenOut:
    principal.require_role(*STAFF)
    return await _view(request, path_id(request))


@routes.post("/api/v1/citizens/{id}/identities", summary="关联身份 / Link an identity to a citizen",
             body=LinkIn, response=CitizenOut, tags=TAG,
             extra_responses={404: "未找到", 409: "该身份已属于另一位市民"})
async def link(request: web.Request, principal: Principal, body: LinkIn) -> CitizenOut:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    cid = path_id(request)
    ident = _identity(body.kind, body.value)
    async with h.sessions() as s, s.begin():
        if not await queries.citizen_exists(s, cid):
            raise NotFound(f"市民 {cid} 不存在", code="citizen_not_found")
        owner = await find_citizen(s, [ident])
        if owner not in (None, cid):
            raise Conflict(f"该身份已属于市民 {owner}；合并市民请联系管理员", code="identity_taken", citizen=owner)
        if owner is None:
            await link_identity(s, cid, ident, h.clock())
    return await _view(request, cid)

