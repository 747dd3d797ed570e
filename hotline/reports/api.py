"""`/api/v1/reports/kpis`: the KPIs of `hotline report` as JSON, and as CSV/XLSX downloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.errors import NotFound, ValidationFailed
from hotline.reports import queries, table
from hotline.reports.kpi import KPIS
from hotline.reports.service import REPORTS, month_days
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE
from hotline.web.orders import SUPERVISORS

if TYPE_CHECKING:
    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["报表 Reports"]
By = Literal["department", "area", "agent", "channel", "category", "legacy_line", "day"]


class KpiQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    first: date = Field(alias="from", description="first day (hotline time zone)")
    last: date = Field(alias="to", description="last day, included")
    by: By | None = None
    format: Literal["json", "csv", "xlsx"] = "json"
    lang: Literal["zh", "en"] = "zh"

    @model_validator(mode="after")
    def _order(self) -> KpiQuery:
        if self.last < self.first:
            raise ValueError("to 早于 from / `to` is before `from`")
        if (self.last - self.first).days > 366:
            raise ValueError("一次最多一年 / at most one year at a time")
        return self


class KpiDef(BaseModel):
    code: str
    zh: str
    en: str
    kind: str


class KpiRow(BaseModel):
    group: str
    group_name: str
    values: dict[str, float | int | None]


class KpiReport(BaseModel):
    date_from: date
    date_to: date = Field(description="included")
    by: str | None
    kpis: list[KpiDef]
    rows: list[KpiRow]


@routes.get("/api/v1/reports/kpis", summary="考核指标 / KPIs of a period, per group (docs/kpi.md)", query=KpiQuery,
            response=KpiReport, tags=TAG,
            raw_response={"text/csv": {"schema": {"type": "string"}},
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
                              {"schema": {"type": "string", "format": "binary"}}})
async def report_kpis(request: web.Request, principal: Principal, query: KpiQuery) -> KpiReport | web.Response:
    principal.require_role(*SUPERVISORS)
    settings = request.app[HOTLINE].settings
    rows = await request.app[REPORTS].kpis(query.first, query.last, query.by)
    name = f"kpi-{query.first}-{query.last}{'-' + query.by if query.by else ''}"
    if query.format == "csv":
        text = "\ufeff" + table.to_csv(settings, rows, query.by, query.lang)
        return web.Response(body=text.encode(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if query.format == "xlsx":
        return web.Response(body=table.to_xlsx(settings, rows, query.by, query.lang),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return KpiReport(date_from=query.first, date_to=query.last, by=query.by,
                     kpis=[KpiDef(code=k.code, zh=k.zh, en=k.en, kind=k.kind) for k in KPIS],
                     rows=[KpiRow(group=r.group, group_name=table.group_name(settings, query.by, r.group, query.lang),
                                  values=r.values) for r in rows])


# ---------------------------------------------------------------- 考评

class MonthQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")


class NoteOut(BaseModel):
    note: str
    author: str
    at: datetime


class ScoreOut(BaseModel):
    department: str
    department_name: str
    tier: str = Field(description="county | town | village: ranked within it")
    rank: int
    score: float
    kpi_points: float = Field(description="100 × the weighted KPIs")
    deducted: float
    notes: list[NoteOut]


class AssessmentOut(BaseModel):
    month: str
    items: list[ScoreOut]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=2000)


@routes.get("/api/v1/reports/assessment", summary="部门考评 / The month's department assessment, ranked per tier",
            query=MonthQuery, response=AssessmentOut, tags=TAG)
async def report_assessment(request: web.Request, principal: Principal, query: MonthQuery) -> AssessmentOut:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    scores = await request.app[REPORTS].assessment(query.month)
    async with h.sessions() as session:
        notes = await queries.notes(session, query.month)
    return AssessmentOut(month=query.month, items=[ScoreOut(
        department=s.department, department_name=table.group_name(h.settings, "department", s.department, "zh"),
        tier=s.tier, rank=s.rank, score=s.score, kpi_points=s.kpi_points, deducted=s.deducted,
        notes=[NoteOut(note=n.note, author=n.author_name, at=n.created_at) for n in notes.get(s.department, [])])
        for s in scores])


@routes.post("/api/v1/reports/assessment/{month}/{department}/notes",
             summary="考评批注 / A supervisor's annotation of a department's month", body=NoteIn,
             response=NoteOut, tags=TAG, status=201)
async def report_assessment_note(request: web.Request, principal: Principal, body: NoteIn) -> NoteOut:
    principal.require_role(*SUPERVISORS)
    h = request.app[HOTLINE]
    month, department = request.match_info["month"], request.match_info["department"]
    try:
        month_days(month)
    except ValueError:
        raise ValidationFailed(f"月份 {month!r} 应写成 YYYY-MM", code="bad_month") from None
    if h.settings.department(department) is None:
        raise NotFound(f"部门 {department} 不存在", code="department_not_found")
    actor = principal.actor
    async with h.sessions() as session, session.begin():
        row = await queries.add_note(session, month, department, body.note.strip(),
                                     int(actor.id) if actor.id and actor.id.isdigit() else None,
                                     actor.name or "", h.clock())
    return NoteOut(note=row.note, author=row.author_name, at=row.created_at)
