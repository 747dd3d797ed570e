"""The mobile app's JSON intake (`/api/v1/app/...`), idempotent on `Idempotency-Key`.

The app authenticates with an app key (`X-App-Key`, one of HOTLINE_OPEN311_API_KEYS:
the keys the hotline issues to client systems). A retried POST with the same
Idempotency-Key answers the first order's number and creates nothing; the same key with
a different body is refused (422), as a client bug must not pass silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from channels import queries
from channels.errors import ChannelAuthError, TooManyRequests
from channels.identity import APP_USER, last4_matches, phone_identity
from channels.open311 import Open311, Open311Error
from channels.publicview import dept_name, open_or_closed, public_history
from hotline.channel import answer
from hotline.contact import Contact, Identity
from hotline.domain.vocabulary import Channel
from hotline.errors import NotFound, ValidationFailed
from hotline.storage.orders import order_history
from hotline.web.api import ApiRoutes
from hotline.web.clients import client_address
from hotline.web.context import HOTLINE, lang_of
from hotline.web.serialize import status_name

if TYPE_CHECKING:
    from channels.config import AppConfig
    from hotline.clock import Clock
    from hotline.intake import Intake, IntakeResult
    from hotline.ratelimit import Attempts
    from hotline.storage.engine import SessionFactory

routes = ApiRoutes()
TAG = ["移动端 App"]


class AppRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=5000, description="诉求内容")
    category: str | None = None
    subject: str | None = Field(None, description="诉求分类（与 Open311 service_code 相同）")
    area: str | None = None
    address: str | None = Field(None, max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    phone: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=100)
    user_id: str | None = Field(None, max_length=100, description="The app's own user id")
    confidential: bool = False


class AppRequestOut(BaseModel):
    number: str
    status: str
    created: bool
    repeated: bool
    status_url: str


class TimelineItem(BaseModel):
    at: datetime
    note: str


class AppStatusOut(BaseModel):
    number: str
    status: str
    status_name: str
    open311_status: str
    department: str | None
    reply_by: datetime | None
    rating: int | None
    history: list[TimelineItem]


class StatusQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_last4: str = Field(pattern=r"^\d{4}$", description="反映人手机号后四位")
    lang: str | None = None


@dataclass(frozen=True)
class AppSubmission:
    """What the app sent: the request (its headers) and its validated body."""

    request: web.Request
    body: AppRequestIn


@dataclass(frozen=True)
class AppIn:
    contact: Contact
    digest: str  # of the body: the same Idempotency-Key with another body is a client bug


class AppChannel:
    """The app's channel port: `X-App-Key` (one of the Open311 client keys), `Idempotency-Key`."""

    def __init__(self, open311: Open311, *, clock: Clock, sessions: SessionFactory, intake: Intake,
                 cfg: AppConfig, lookups: Attempts) -> None:
        self.open311 = open311
        self.clock, self.sessions, self.intake = clock, sessions, intake
        self.cfg, self.lookups = cfg, lookups

    async def lookup_allowed(self, request: web.Request, key: str, number: str) -> tuple[str, str]:
        """Count one status lookup before it is checked, per client and per order (atomic, in
        Redis when configured); a 429 beyond either. Returns the two counters' keys."""
        by_client, by_order = f"app:client:{key}:{client_address(request)}", f"app:order:{number[:20]}"
        window = self.cfg.lookup_window_seconds
        n_client = await self.lookups.add(by_client, window)
        n_order = await self.lookups.add(by_order, window)
        if n_client > self.cfg.lookups_per_client or n_order > self.cfg.failed_lookups_per_order:
            raise TooManyRequests(f"查询过于频繁，请 {max(1, window // 60)} 分钟后再试", code="too_many_lookups")
        return by_client, by_order

    def key_id(self, request: web.Request) -> str:
        try:
            return self.open311.key_id(request.headers.get("X-App-Key"))
        except Open311Error as exc:
            raise ChannelAuthError(exc.description, code="bad_app_key") from None

    async def verify(self, raw: AppSubmission) -> AppIn:
        key = self.key_id(raw.request)
        idem = (raw.request.headers.get("Idempotency-Key") or "").strip()
        if not idem or len(idem) > 100:
            raise ValidationFailed("请在 Idempotency-Key 头中提供 1–100 字符的唯一值（重试时保持不变）",
                                   code="idempotency_key_required")
        body = raw.body
        digest = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        sender = phone_identity(body.phone)
        others = (Identity(APP_USER, f"{key}:{body.user_id}"),) if body.user_id else ()
        contact = Contact(channel=Channel.APP, external_id=f"app:{key}:{idem}", received_at=self.clock(),
                          text=body.text, sender=sender or (others[0] if others else None),
                          other_identities=others if sender else (), sender_name=body.name,
                          category=body.category or self.open311.settings.default_category(body.subject),
                          subject=body.subject, area=body.area, address=body.address, latitude=body.latitude,
                          longitude=body.longitude, confidential=body.confidential,
                          raw={"body_sha256": digest, "app_key": key})
        return AppIn(contact, digest)

    async def receive(self, app: AppIn) -> IntakeResult:
        result = await self.intake.receive(app.contact)
        if result.repeated:
            async with self.sessions() as session:
                raw = await queries.contact_raw(session, result.contact_id)
            if raw.get("body_sha256") != app.digest:
                raise ValidationFailed("该 Idempotency-Key 已用于内容不同的请求", code="idempotency_key_reused")
        return result

    def acknowledge(self, raw: AppSubmission, app: AppIn, result: IntakeResult) -> web.Response:
        out = AppRequestOut(number=result.number, status=result.status, created=result.created,
                            repeated=result.repeated, status_url=f"/api/v1/app/requests/{result.number}")
        return web.json_response(out.model_dump(mode="json"), status=200 if result.repeated else 201,
                                 headers={"Location": out.status_url})


APP: web.AppKey[AppChannel] = web.AppKey("channels.app", AppChannel)


@routes.post("/api/v1/app/requests", summary="App 提交诉求 / Submit a request from the app", auth="none",
             body=AppRequestIn, response=AppRequestOut, status=201, tags=TAG,
             description="Headers: `X-App-Key` (issued app key) and `Idempotency-Key` (required; a retry with "
                         "the same key answers 200 with the first number). Same key, different body: 422.",
             extra_responses={403: "X-App-Key 无效"}, key="appKey", repeat_status=200,
             headers={"Idempotency-Key": (True, 100, "每次提交唯一、重试时不变 / unique per submission, same on retry")})
async def submit(request: web.Request, body: AppRequestIn) -> web.StreamResponse:
    channel = request.app[APP]
    return await answer(channel, AppSubmission(request, body))


@routes.get("/api/v1/app/requests/{number}", summary="App 查询办理进度 / Status of a request", auth="none",
            query=StatusQuery, response=AppStatusOut, tags=TAG,
            description="Needs `X-App-Key` and the last 4 digits of the phone number given with the request. "
                        "Limited per window (`channels.app`): lookups per client (app key + address) and failed "
                        "lookups per order; beyond either, 429 `too_many_lookups`.",
            extra_responses={403: "X-App-Key 无效", 404: "不存在或手机号不符", 429: "查询过于频繁 / too many lookups"}, key="appKey")
async def status(request: web.Request, query: StatusQuery) -> AppStatusOut:
    h = request.app[HOTLINE]
    app = request.app[APP]
    number = request.match_info["number"]
    _, by_order = await app.lookup_allowed(request, app.key_id(request), number)
    async with h.sessions() as session:
        try:
            hist = await order_history(session, number)
        except NotFound:
            hist = None
    # The same answer for "no such order" and "not your phone", so numbers cannot be probed.
    if hist is None or not last4_matches(hist.order.contact_phone, query.phone_last4):
        raise NotFound(f"工单 {number} 不存在或手机号不符", code="workorder_not_found")
    await app.lookups.take_back(by_order)  # the citizen's own lookups never lock their order
    o, lang = hist.order, lang_of(request)
    return AppStatusOut(number=o.number, status=o.status, status_name=status_name(o.status, lang),
                        open311_status=open_or_closed(o.status),
                        department=dept_name(h.settings, o.lead_department) or None,
                        reply_by=o.reply_by, rating=o.rating,
                        history=[TimelineItem(at=e.at, note=n) for e, n in public_history(h.settings, hist.events,
                                                                                         lang)])
