"""`/api/v1/reports/kpis`: the KPIs of `hotline report` as JSON, and as CSV/XLSX downloads."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.reports import table
from hotline.reports.kpi import KPIS
from hotline.reports.service import REPORTS
from hotline.web.api import ApiRoutes
from hotline.web.context import HOTLINE
from hotline.web.orders import SUPERVISORS

if TYPE_CHECKING:
    from hotline.auth import Principal

routes = ApiRoutes()
TAG = ["报表 Reports"]
By = Literal["department", "area", "agent", "channel", "category", "legacy_line"]


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
            response=KpiReport, tags=TAG)
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
