"""The convenience-service directory's JSON API: the public's search, staff hand requests
over, companies confirm and finish them with their key, citizens rate, supervisors keep
the directory (one company, CSV/XLSX import and export) and run the monthly assessment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import PayloadTooLarge, UnsupportedMedia
from hotline.public.directory import DIRECTORY, STATUSES
from hotline.web.api import ApiRoutes
from hotline.web.boundary import path_id
from hotline.web.context import lang_of
from hotline.web.orders import STAFF, SUPERVISORS

if TYPE_CHECKING:
    from hotline.auth import Principal
    from hotline.public.directory import Found
    from hotline.public.models import Company, CompanyAssessment, ServiceRequest

routes = ApiRoutes()
TAG = ["便民服务企业库 Convenience services"]
SUP = {403: "需要班长/督查角色 / supervisor role required"}
COMPANY = {401: "X-Company-Key 无效 / invalid key", 409: "状态不允许 / not in this state"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE = 5 * 1024 * 1024


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    service_types: list[str] = Field(max_length=20)
    areas: list[str] = Field(default_factory=list, max_length=200, description="服务的镇/村代码")
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    hours: str = Field("", max_length=100, description="营业时间，如 08:00-20:00")
    contact_name: str = Field("", max_length=100)
    phone: str = Field("", max_length=32)
    price_guidance: str = Field("", max_length=2000, description="收费指导")
    member: bool = Field(True, description="加盟会员")
    status: Literal["active", "warned", "suspended"] = "active"
    webhook_url: str | None = Field(None, max_length=500)


class CompanyOut(BaseModel):
    code: str
    name: str
    service_types: list[str]
    areas: list[str]
    address: str
    latitude: float | None
    longitude: float | None
    hours: str
    contact_name: str
    phone: str
    price_guidance: str
    member: bool
    status: str


class FoundOut(CompanyOut):
    minutes: float | None = Field(description="估计到达时间（分钟）：直线距离 × 道路系数 ÷ 速度")


def company_out(c: Company) -> CompanyOut:
    return CompanyOut(code=c.code, name=c.name, service_types=list(c.service_types), areas=list(c.areas),
                      address=c.address, latitude=c.latitude, longitude=c.longitude, hours=c.hours,
                      contact_name=c.contact_name, phone=c.phone, price_guidance=c.price_guidance, member=c.member,
                      status=c.status)


def found_out(f: Found) -> FoundOut:
    return FoundOut(**company_out(f.company).model_dump(), minutes=f.minutes)


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str | None = Field(None, max_length=32, description="服务类型")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    area: str | None = Field(None, max_length=64, description="镇/村代码")
    within_minutes: float | None = Field(None, gt=0, le=240, description="默认 15 分钟服务圈")
    lang: Literal["zh", "en"] | None = None


class ServiceTypeOut(BaseModel):
    code: str
    name: str


@routes.get("/api/v1/directory/service-types", summary="便民服务类型 / Service types", auth="none",
            response=list[ServiceTypeOut], tags=TAG)
async def directory_types(request: web.Request) -> list[ServiceTypeOut]:
    en = lang_of(request) == "en"
    return [ServiceTypeOut(code=t.code, name=t.name_en if en and t.name_en else t.name)
            for t in request.app[DIRECTORY].cfg.service_types]


@routes.get("/api/v1/directory/companies", summary="查找便民服务企业（按类型与距离） / Find companies by type and distance",
            auth="none", query=SearchQuery, response=list[FoundOut], tags=TAG)
async def directory_search(request: web.Request, query: SearchQuery) -> list[FoundOut]:
    found = await request.app[DIRECTORY].search(query.type, query.lat, query.lon, query.area, query.within_minutes)
    return [found_out(f) for f in found]


class UpsertOut(BaseModel):
    created: int
    updated: int


@routes.post("/api/v1/directory/companies", summary="新增或修改企业 / Add or change a company", body=CompanyIn,
             response=CompanyOut, tags=TAG, extra_responses=SUP)
async def directory_upsert(request: web.Request, principal: Principal, body: CompanyIn) -> CompanyOut:
    principal.require_role(*SUPERVISORS)
    d = request.app[DIRECTORY]
    await d.upsert([body.model_dump()])
    return company_out(await d.get(body.code))


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "warned", "suspended"]


@routes.post("/api/v1/directory/companies/{code}/status", summary="调整企业状态 / Set a company's status",
             body=StatusIn, response=CompanyOut, tags=TAG, extra_responses=SUP)
async def directory_status(request: web.Request, principal: Principal, body: StatusIn) -> CompanyOut:
    principal.require_role(*SUPERVISORS)
    assert body.status in STATUSES
    return company_out(await request.app[DIRECTORY].set_status(request.match_info["code"], body.status))


class CompanyKeyOut(BaseModel):
    code: str
    key: str = Field(description="只显示这一次；旧密钥即时失效 / shown once; the old key stops at once")


@routes.post("/api/v1/directory/companies/{code}/key", summary="签发企业密钥 / Issue a company's key",
             response=CompanyKeyOut, status=201, tags=TAG, extra_responses=SUP)
async def directory_key(request: web.Request, principal: Principal) -> CompanyKeyOut:
    principal.require_role(*SUPERVISORS)
    code = request.match_info["code"]
    return CompanyKeyOut(code=code, key=await request.app[DIRECTORY].issue_key(code))


class HandOverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    company: str = Field(max_length=64)
    service_type: str = Field(max_length=32)
    citizen_phone: str = Field(pattern=r"^\+?[0-9-]{5,32}$")
    citizen_name: str = Field("", max_length=100)
    address: str = Field("", max_length=300)
    text: str = Field(min_length=1, max_length=2000)
    order: str | None = Field(None, max_length=20, description="来自哪张工单（可选）")


class RequestOut(BaseModel):
    id: int
    company: str
    service_type: str
    status: str
    created_at: datetime
    confirmed_at: datetime | None
    done_at: datetime | None
    rating: int | None
    complaint: bool


class HandedOut(RequestOut):
    rating_token: str = Field(description="发给市民，用于评价 / for the citizen, to rate")


def request_out(r: ServiceRequest, company: str) -> RequestOut:
    return RequestOut(id=r.id, company=company, service_type=r.service_type, status=r.status, created_at=r.created_at,
                      confirmed_at=r.confirmed_at, done_at=r.done_at, rating=r.rating, complaint=r.complaint)


@routes.post("/api/v1/directory/requests", summary="转交便民服务企业 / Hand a request to a company", body=HandOverIn,
             response=HandedOut, status=201, tags=TAG,
             extra_responses={403: "坐席 / staff only", 404: "企业或工单不存在 / no such company or order",
                              409: "企业已暂停或不提供该服务 / suspended, or service not offered"})
async def directory_hand_over(request: web.Request, principal: Principal, body: HandOverIn) -> HandedOut:
    principal.require_role(*STAFF)
    d = request.app[DIRECTORY]
    row = await d.hand_over(body.company, body.service_type, body.citizen_phone, body.citizen_name, body.address,
                            body.text, body.order)
    return HandedOut(**request_out(row, body.company).model_dump(), rating_token=d.rating_token(row.id))


@routes.post("/api/v1/directory/company/requests/{id}/confirm", summary="企业确认接单 / The company confirms",
             auth="none", key="companyKey", response=RequestOut, tags=TAG, extra_responses=COMPANY)
async def directory_confirm(request: web.Request) -> RequestOut:
    d = request.app[DIRECTORY]
    c = await d.company_for_key(request.headers.get("X-Company-Key"))
    return request_out(await d.confirm(c, path_id(request)), c.code)


@routes.post("/api/v1/directory/company/requests/{id}/done", summary="企业报告完成 / The company reports it done",
             auth="none", key="companyKey", response=RequestOut, tags=TAG, extra_responses=COMPANY)
async def directory_done(request: web.Request) -> RequestOut:
    d = request.app[DIRECTORY]
    c = await d.company_for_key(request.headers.get("X-Company-Key"))
    return request_out(await d.done(c, path_id(request)), c.code)


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(max_length=40)
    level: int = Field(ge=1, le=5, description="1 非常不满意 … 5 非常满意")
    complaint: bool = Field(False, description="投诉该企业")
    comment: str = Field("", max_length=1000)


class RatedOut(BaseModel):
    id: int
    rating: int
    complaint: bool


@routes.post("/api/v1/directory/requests/{id}/rating", summary="市民评价企业 / The citizen rates the company",
             auth="none", body=RateIn, response=RatedOut, tags=TAG, extra_responses={409: "已评价 / already rated"})
async def directory_rate(request: web.Request, body: RateIn) -> RatedOut:
    row = await request.app[DIRECTORY].rate(path_id(request), body.token, body.level, body.complaint, body.comment)
    return RatedOut(id=row.id, rating=body.level, complaint=row.complaint)


class AssessmentOut(BaseModel):
    company: str
    month: str
    requests: int
    confirmed: int
    done: int
    response_minutes: float | None
    complaints: int
    ratings: int
    rating: float | None
    action: Literal["ok", "not_judged", "warned", "suspended"]
    reasons: list[str]


def assessment_out(a: CompanyAssessment, code: str) -> AssessmentOut:
    return AssessmentOut(company=code, month=a.month, requests=a.requests, confirmed=a.confirmed, done=a.done,
                         response_minutes=None if a.response_minutes is None else round(a.response_minutes, 1),
                         complaints=a.complaints, ratings=a.ratings,
                         rating=None if a.rating is None else round(a.rating, 2),
                         action=a.action, reasons=list(a.reasons))


@routes.post("/api/v1/directory/assessments/{month}", summary="月度加盟商考评 / Assess a month",
             response=list[AssessmentOut], tags=TAG,
             extra_responses={**SUP, 422: "月份无效或未结束 / bad month, or not over"})
async def directory_assess(request: web.Request, principal: Principal) -> list[AssessmentOut]:
    principal.require_role(*SUPERVISORS)
    return [assessment_out(a, c) for a, c in await request.app[DIRECTORY].assess(request.match_info["month"][:7])]


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["csv", "xlsx"] = "csv"


@routes.get("/api/v1/directory/export", summary="导出企业库（CSV/XLSX） / Export the directory", query=ExportQuery,
            tags=TAG, extra_responses=SUP)
async def directory_export(request: web.Request, principal: Principal, query: ExportQuery) -> web.Response:
    principal.require_role(*SUPERVISORS)
    body = await request.app[DIRECTORY].export(query.format)
    ctype = "text/csv" if query.format == "csv" else XLSX
    return web.Response(body=body, content_type=ctype, charset="utf-8" if query.format == "csv" else None,
                        headers={"Content-Disposition": f'attachment; filename="companies.{query.format}"'})


@routes.post("/api/v1/directory/import", summary="导入企业库（CSV/XLSX，按 code 新增或更新，有错则全不写） / Import",
             response=UpsertOut, tags=TAG, extra_responses=SUP,
             raw_body={"text/csv": {"schema": {"type": "string"}},
                       XLSX: {"schema": {"type": "string", "format": "binary"}}})
async def directory_import(request: web.Request, principal: Principal) -> UpsertOut:
    principal.require_role(*SUPERVISORS)
    if request.content_type not in ("text/csv", XLSX):
        raise UnsupportedMedia(f"请使用 text/csv 或 {XLSX}")
    data = await request.content.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise PayloadTooLarge(f"文件最大 {MAX_FILE // (1024 * 1024)} MB")
    d = request.app[DIRECTORY]
    created, updated = await d.upsert(d.parse(data, "csv" if request.content_type == "text/csv" else "xlsx"))
    return UpsertOut(created=created, updated=updated)
