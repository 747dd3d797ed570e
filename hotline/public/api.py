"""Disclosure's JSON API: the public's cases, comments and statistics (no login), and the
supervisors' preview, publish, withdraw, audit and moderation (supervisor or admin)."""

from __future__ import annotations

from datetime import date, datetime
from datetime import date as Day  # `date` is also a query parameter's name
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hotline.errors import NotFound
from hotline.public import queries
from hotline.public.service import DISCLOSURE, Stats
from hotline.web.api import ApiRoutes
from hotline.web.boundary import EARLIEST, LATEST, path_id
from hotline.web.clients import client_address
from hotline.web.context import HOTLINE, lang_of
from hotline.web.orders import SUPERVISORS

if TYPE_CHECKING:
    from aiohttp import web

    from hotline.auth import Principal
    from hotline.public.disclose import Draft
    from hotline.public.models import PublicAudit, PublicCase, PublicComment
    from hotline.settings import Settings

routes = ApiRoutes()
PUBLIC_TAG = ["政务公开 Disclosure"]
STAFF_TAG = ["政务公开管理 Disclosure (supervisors)"]
STAFF = {403: "需要班长/督查角色 / supervisor role required", 404: "不存在 / not found"}
Lang = Literal["zh", "en"]


def dept_name(settings: Settings, code: str | None, lang: Lang) -> str | None:
    d = settings.department(code) if code else None
    if d is None:
        return None
    return d.name_en if lang == "en" and d.name_en else d.name


def subject_name(settings: Settings, code: str | None, lang: Lang) -> str | None:
    for group, leaf in settings.leaf_subjects():
        for s in (group, leaf):
            if s.code == code:
                return s.name_en if lang == "en" and s.name_en else s.name
    return None


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cursor: str | None = Field(None, max_length=40)
    limit: int = Field(20, ge=1, le=100)
    lang: Literal["zh", "en"] | None = None


class CaseOut(BaseModel):
    number: str
    title: str
    question: str = Field(description="诉求内容（已脱敏）")
    answer: str = Field(description="办理结果（已脱敏）")
    department: str | None
    department_name: str | None
    subject: str | None
    subject_name: str | None
    location: str | None = Field(description="道路/小区一级的位置")
    asked_at: datetime
    closed_at: datetime
    rating: int | None = Field(description="满意度 1–5")
    published_at: datetime


class CommentOut(BaseModel):
    id: int
    text: str
    created_at: datetime


class CaseDetail(CaseOut):
    comments: list[CommentOut] = Field(description="审核通过的评论")


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


def case_out(settings: Settings, c: PublicCase, lang: Lang) -> CaseOut:
    return CaseOut(number=c.number, title=c.title, question=c.question, answer=c.answer, department=c.department,
                   department_name=dept_name(settings, c.department, lang), subject=c.subject,
                   subject_name=subject_name(settings, c.subject, lang), location=c.location, asked_at=c.asked_at,
                   closed_at=c.closed_at, rating=c.rating, published_at=c.published_at)


def _number(request: web.Request) -> str:
    raw = request.match_info["number"]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 20):
        raise NotFound(f"工单 {raw[:20]} 不存在", title_en="No such work order")
    return raw


@routes.get("/api/v1/public/cases", summary="公开案例 / Published cases", auth="none", query=PageQuery,
            response=CasePage, tags=PUBLIC_TAG)
async def public_cases(request: web.Request, query: PageQuery) -> CasePage:
    return await cases_page(request, query)


async def cases_page(request: web.Request, query: PageQuery) -> CasePage:
    """The published cases, newest first (the public's list and the press partners' feed)."""
    h = request.app[HOTLINE]
    async with h.sessions() as session:
        rows, cursor = await queries.visible_page(session, query.cursor, query.limit)
    lang = lang_of(request)
    return CasePage(items=[case_out(h.settings, c, lang) for c in rows], next_cursor=cursor)


@routes.get("/api/v1/public/cases/{number}", summary="公开案例详情 / One published case", auth="none",
            response=CaseDetail, tags=PUBLIC_TAG, extra_responses={404: "未公开 / not published"})
async def public_case(request: web.Request) -> CaseDetail:
    h = request.app[HOTLINE]
    number = _number(request)
    async with h.sessions() as session:
        c = await queries.visible_case(session, number)
        if c is None:
            raise NotFound(f"公开案例 {number} 不存在", title_en="No such published case")
        comments = await queries.approved_comments(session, c.id)
    out = case_out(h.settings, c, lang_of(request))
    return CaseDetail(**out.model_dump(), comments=[CommentOut(id=m.id, text=m.text, created_at=m.created_at)
                                                    for m in comments])


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000, description="评论内容（审核后公开，个人信息自动脱敏）")


class CommentAck(BaseModel):
    id: int
    status: Literal["pending"]


@routes.post("/api/v1/public/cases/{number}/comments", summary="评论公开案例（审核后显示） / Comment (shown once approved)",
             auth="none", body=CommentIn, response=CommentAck, status=202, tags=PUBLIC_TAG,
             extra_responses={404: "未公开 / not published", 429: "过于频繁 / too many comments"})
async def public_comment(request: web.Request, body: CommentIn) -> CommentAck:
    row = await request.app[DISCLOSURE].comment(_number(request), body.text, client_address(request))
    return CommentAck(id=row.id, status="pending")


def _iso_day(value: Any) -> Any:
    """Only YYYY-MM-DD (pydantic would also take a timestamp or a date-time), years 1900–9998."""
    if value is None or isinstance(value, date):
        return value
    text = str(value)
    try:
        day = Day.fromisoformat(text) if len(text) == 10 and text[4] == "-" else None
    except ValueError:
        day = None
    if day is None or not EARLIEST.year <= day.year < LATEST.year:
        raise ValueError(f"须为 {EARLIEST.year}–{LATEST.year - 1} 年的日期，如 2026-12-01")
    return day


IsoDay = Annotated[Day, BeforeValidator(_iso_day)]


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: Literal["day", "month"] = "month"
    date: IsoDay | None = Field(None, description="该日（或该月任一日），默认今天")
    lang: Literal["zh", "en"] | None = None


class SubjectCount(BaseModel):
    subject: str
    subject_name: str | None
    orders: int


class DepartmentStats(BaseModel):
    department: str
    department_name: str | None
    replies: int
    on_time: int
    on_time_rate: float | None = Field(description="按时办结率 0–1")
    ratings: int
    satisfied: int
    satisfaction_rate: float | None = Field(description="满意率（基本满意及以上）0–1")


class StatsOut(BaseModel):
    period: Literal["day", "month"]
    start: date
    end: date = Field(description="不含")
    contacts_by_channel: dict[str, int]
    contacts: int
    top_subjects: list[SubjectCount]
    departments: list[DepartmentStats]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def stats_out(settings: Settings, s: Stats, lang: Lang) -> StatsOut:
    return StatsOut(period=s.period, start=s.start, end=s.end, contacts_by_channel=s.contacts,
                    contacts=sum(s.contacts.values()),
                    top_subjects=[SubjectCount(subject=c, subject_name=subject_name(settings, c, lang), orders=n)
                                  for c, n in s.top_subjects],
                    departments=[DepartmentStats(department=d.department,
                                                 department_name=dept_name(settings, d.department, lang),
                                                 replies=d.replies, on_time=d.on_time,
                                                 on_time_rate=_rate(d.on_time, d.replies), ratings=d.ratings,
                                                 satisfied=d.satisfied, satisfaction_rate=_rate(d.satisfied, d.ratings))
                                 for d in s.departments])


def today(request: web.Request) -> date:
    h = request.app[HOTLINE]
    return h.clock().astimezone(h.settings.tz).date()


@routes.get("/api/v1/public/stats", summary="受理与办理统计（日/月） / Daily or monthly statistics", auth="none",
            query=StatsQuery, response=StatsOut, tags=PUBLIC_TAG)
async def public_stats(request: web.Request, query: StatsQuery) -> StatsOut:
    s = await request.app[DISCLOSURE].stats(query.period, query.date or today(request))
    return stats_out(request.app[HOTLINE].settings, s, lang_of(request))


# ---------------------------------------------------------------- supervisors

class PreviewOut(BaseModel):
    number: str
    title: str
    question: str
    answer: str
    department: str | None
    location: str | None
    asked_at: datetime
    closed_at: datetime
    rating: int | None
    digest: str = Field(description="发布时回传，确保发布的就是预览的内容")
    published: bool


def preview_out(d: Draft, published: bool) -> PreviewOut:
    return PreviewOut(number=d.number, title=d.title, question=d.question, answer=d.answer, department=d.department,
                      location=d.location, asked_at=d.asked_at, closed_at=d.closed_at, rating=d.rating,
                      digest=d.digest(), published=published)


@routes.get("/api/v1/disclosure/orders/{number}/preview", summary="预览脱敏后的公开内容 / Preview the masked text",
            response=PreviewOut, tags=STAFF_TAG, extra_responses={**STAFF, 409: "不可公开 / not publishable"})
async def disclosure_preview(request: web.Request, principal: Principal) -> PreviewOut:
    principal.require_role(*SUPERVISORS)
    d, existing = await request.app[DISCLOSURE].preview(_number(request))
    return preview_out(d, existing is not None and existing.withdrawn_at is None)


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digest: str | None = Field(None, max_length=16, description="预览返回的 digest")


@routes.post("/api/v1/disclosure/orders/{number}/publish", summary="公开工单 / Publish a closed order",
             body=PublishIn, response=CaseOut, status=201, tags=STAFF_TAG,
             extra_responses={**STAFF, 409: "不可公开、已公开或内容已变化 / not publishable, published, or changed"})
async def disclosure_publish(request: web.Request, principal: Principal, body: PublishIn) -> CaseOut:
    principal.require_role(*SUPERVISORS)
    row = await request.app[DISCLOSURE].publish(_number(request), principal.actor, body.digest)
    return case_out(request.app[HOTLINE].settings, row, lang_of(request))


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


@routes.post("/api/v1/disclosure/orders/{number}/withdraw", summary="撤回公开 / Withdraw a publication",
             body=WithdrawIn, response=CaseOut, tags=STAFF_TAG, extra_responses=STAFF)
async def disclosure_withdraw(request: web.Request, principal: Principal, body: WithdrawIn) -> CaseOut:
    principal.require_role(*SUPERVISORS)
    row = await request.app[DISCLOSURE].withdraw(_number(request), principal.actor, body.reason)
    return case_out(request.app[HOTLINE].settings, row, lang_of(request))


class AuditQuery(PageQuery):
    number: str | None = Field(None, max_length=20)


class AuditOut(BaseModel):
    id: int
    number: str
    action: str
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    at: datetime
    data: dict[str, object]


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


def audit_out(a: PublicAudit) -> AuditOut:
    return AuditOut(id=a.id, number=a.number, action=a.action, actor_kind=a.actor_kind, actor_id=a.actor_id,
                    actor_name=a.actor_name, at=a.at, data=dict(a.data or {}))


@routes.get("/api/v1/disclosure/audit", summary="公开操作记录 / Who published what", query=AuditQuery,
            response=AuditPage, tags=STAFF_TAG, extra_responses={403: STAFF[403]})
async def disclosure_audit(request: web.Request, principal: Principal, query: AuditQuery) -> AuditPage:
    principal.require_role(*SUPERVISORS)
    async with request.app[HOTLINE].sessions() as session:
        rows, cursor = await queries.audit_page(session, query.number, query.cursor, query.limit)
    return AuditPage(items=[audit_out(a) for a in rows], next_cursor=cursor)


class CommentQuery(PageQuery):
    status: Literal["pending", "approved", "rejected"] = "pending"


class StaffComment(BaseModel):
    id: int
    number: str
    text: str
    status: str
    created_at: datetime
    moderated_at: datetime | None
    moderated_by: str | None


class StaffCommentPage(BaseModel):
    items: list[StaffComment]
    next_cursor: str | None


def staff_comment(c: PublicComment, number: str) -> StaffComment:
    return StaffComment(id=c.id, number=number, text=c.text, status=c.status, created_at=c.created_at,
                        moderated_at=c.moderated_at, moderated_by=c.moderated_by)


@routes.get("/api/v1/disclosure/comments", summary="待审核评论 / Comments to moderate", query=CommentQuery,
            response=StaffCommentPage, tags=STAFF_TAG, extra_responses={403: STAFF[403]})
async def disclosure_comments(request: web.Request, principal: Principal, query: CommentQuery) -> StaffCommentPage:
    principal.require_role(*SUPERVISORS)
    async with request.app[HOTLINE].sessions() as session:
        rows, cursor = await queries.comments_page(session, query.status, query.cursor, query.limit)
    return StaffCommentPage(items=[staff_comment(c, n) for c, n in rows], next_cursor=cursor)


class ModerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]


@routes.post("/api/v1/disclosure/comments/{id}/moderate", summary="审核评论 / Approve or reject a comment",
             body=ModerateIn, response=StaffComment, tags=STAFF_TAG,
             extra_responses={**STAFF, 409: "已审核 / already moderated"})
async def disclosure_moderate(request: web.Request, principal: Principal, body: ModerateIn) -> StaffComment:
    principal.require_role(*SUPERVISORS)
    row = await request.app[DISCLOSURE].moderate(path_id(request), body.decision == "approve", principal.actor)
    async with request.app[HOTLINE].sessions() as session:
        case_number = await queries.number_of_case(session, row.case_id)
    return staff_comment(row, case_number)
