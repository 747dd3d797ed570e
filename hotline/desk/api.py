"""`/api/v1/desk/...`: what the agents' page needs beyond the order and telephony APIs: its
settings and the agent's softphone account, the screen pop, the agents' states with their
running time. The page drives the phone through `/api/v1/telephony/…` and the orders through
`/api/v1/workorders/…`, the same endpoints integrators see."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.desk import queries
from hotline.desk.service import DESK, Desk
from hotline.domain.vocabulary import Channel, UserRole
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE, lang_of

if TYPE_CHECKING:

    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["坐席工作台 Desk"]
STAFF = (UserRole.AGENT, UserRole.SUPERVISOR, UserRole.ADMIN)


class PopQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    linkedid: str | None = Field(None, max_length=64)
    caller: str | None = Field(None, pattern=r"^\+?\d{3,20}$")
    lang: str | None = None


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def ws_url(desk: Desk, request: web.Request) -> str:
    """The Asterisk WebSocket the browser registers over (docs/desk.md)."""
    sp = desk.config.softphone
    if sp.ws_url:
        return sp.ws_url
    host = desk.settings.ami.host or request.url.host or "127.0.0.1"
    return f"ws://{host}:8088/ws"


@routes.get("/api/v1/desk/session", summary="坐席工作台设置与软电话账号 / The desk's settings and the agent's softphone",
            tags=TAG)
async def session(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*STAFF)
    desk, en = _desk(request), lang_of(request) == "en"
    cfg, sp = desk.config, desk.config.softphone
    phone: dict[str, Any] | None = None
    if sp.enabled and principal.extension:
        url = ws_url(desk, request)
        domain = sp.domain or urlsplit(url).hostname or "127.0.0.1"
        ext = principal.extension
        # Only the agent's own endpoint: a session is the agent's, and the page needs the
        # secret to answer the REGISTER challenge of Asterisk.
        phone = {"ws_url": url, "uri": f"sip:{ext}@{domain}", "username": ext,
                 "password": sp.passwords.get(ext) or sp.password_template.format(extension=ext),
                 "display_name": principal.name, "ice_servers": list(sp.ice_servers)}
    return {"user": {"id": int(principal.id), "name": principal.name, "username": principal.username,
                     "role": principal.role.value if principal.role else None, "extension": principal.extension},
            "pause_reasons": [{"code": r.code, "name": r.name, "label": r.name_en if en and r.name_en else r.name}
                              for r in cfg.pause_reasons],
            "wrapup_seconds": cfg.wrapup_seconds, "wrapup_reason": cfg.wrapup_reason, "softphone": phone,
            # Panels other modules fill: each appears when its API answers (docs/desk.md).
            "panels": [{"id": "knowledge", "title": "Knowledge base" if en else "知识库",
                        "api": "/api/v1/knowledge/suggest"},
                       {"id": "followup", "title": "Follow-up tasks" if en else "回访任务",
                        "api": "/api/v1/supervisor/follow-ups"}]}


@routes.get("/api/v1/desk/pop", summary="来电弹屏：来电号码、所拨线路、等待时长、历史诉求 / Screen pop of a ringing call",
            query=PopQuery, tags=TAG)
async def pop(request: web.Request, principal: Principal, query: PopQuery) -> dict[str, Any]:
    principal.require_role(*STAFF)
    return await _desk(request).pop(query.caller or "", query.linkedid)


@routes.get("/api/v1/desk/agents", summary="坐席状态及持续时间 / Agents by state, with since when", tags=TAG)
async def agents(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*STAFF)
    desk = _desk(request)
    return {"now": request.app[HOTLINE].clock().isoformat(), "agents": desk.agent_list()}


@routes.get("/api/v1/desk/backlog", summary="待处理的书面诉求（超过 3 分钟）/ Written contacts waiting over 3 minutes",
            tags=TAG)
async def backlog(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        n, oldest = await queries.written_waiting(session, now - timedelta(minutes=3))
    return {"written_over_3min": n, "oldest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0}


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(100, ge=1, le=500)
    lang: str | None = None


@routes.get("/api/v1/desk/inbox", summary="书面诉求收件箱（短信、微信、网站、App、传真）/ One inbox for every written channel",
            query=InboxQuery, tags=TAG)
async def inbox(request: web.Request, principal: Principal, query: InboxQuery) -> dict[str, Any]:
    principal.require_role(*STAFF)
    h = request.app[HOTLINE]
    now = h.clock()
    async with h.sessions() as session:
        rows = await queries.inbox(session, now, query.limit)
        faxes = await queries.fax_previews(session, [r.number for r in rows if r.channel == Channel.FAX.value])
    me = int(principal.id)
    return {"items": [{"number": r.number, "version": r.version, "channel": r.channel,
                       "title": r.title, "text": "" if r.confidential else r.description[:200],
                       "category": r.category, "confidential": r.confidential, "created_at": r.created_at.isoformat(),
                       "waiting_seconds": int((now - r.created_at).total_seconds()),
                       "claimed_by": r.claimed_name, "mine": r.claimed_by == me,
                       "claim_expires": r.claim_expires.isoformat() if r.claim_expires else None,
                       "fax": _fax(r.number, faxes.get(r.number))} for r in rows]}


def _fax(number: str, ids: tuple[int, int | None] | None) -> dict[str, str | None] | None:
    """A fax's page-1 preview (PNG) and its original (PDF/TIFF), as the staff file URLs."""
    if ids is None:
        return None
    base = f"/api/v1/workorders/{number}/attachments"
    return {"preview": f"{base}/{ids[0]}", "original": f"{base}/{ids[1]}" if ids[1] is not None else None}


@routes.post("/api/v1/desk/inbox/{number}/claim", summary="认领（同一诉求只由一名话务员处理）/ Claim a written contact",
             tags=TAG, extra_responses={404: "诉求不存在", 409: "已由他人认领或已处理 / claimed by another"})
async def claim(request: web.Request, principal: Principal) -> dict[str, Any]:
    principal.require_role(*STAFF)
    return await _desk(request).claim(request.match_info["number"], int(principal.id), principal.name)


@routes.post("/api/v1/desk/inbox/{number}/release", summary="释放认领 / Release a claim", status=204, tags=TAG,
             extra_responses={404: "诉求不存在"})
async def release(request: web.Request, principal: Principal) -> web.StreamResponse:
    principal.require_role(*STAFF)
    await _desk(request).release(request.match_info["number"], int(principal.id))
    return web.Response(status=204)
