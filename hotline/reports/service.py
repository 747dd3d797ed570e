"""The KPIs of a period, per group: what `hotline report` and `/api/v1/reports/kpis` give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from hotline.reports import queries
from hotline.reports.assessment import DEDUCTIBLE, Score, ranked, score
from hotline.reports.kpi import figures

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from hotline.reports.assessment import AssessmentConfig
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory

# GB/T 33358-2016 (呼叫中心服务质量要求): 15 s; abandons within 5 s are not counted against the answer rate.
ANSWER_WITHIN_SECONDS = 15
SHORT_ABANDON_SECONDS = 5


@dataclass(frozen=True)
class Row:
    group: str  # "" for the whole hotline
    values: dict[str, float | None]


def period(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the hotline's time zone. Pure."""
    return datetime.combine(first, time(), tz), datetime.combine(last + timedelta(days=1), time(), tz)


def month_days(month: str) -> tuple[date, date]:
    """'2026-10' → (1 Oct, 31 Oct). ValueError for anything else. Pure."""
    year, _, mon = month.partition("-")
    if len(year) != 4 or len(mon) != 2:
        raise ValueError(month)
    first = date(int(year), int(mon), 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


class Reports:
    def __init__(self, sessions: SessionFactory, tz: ZoneInfo, settings: Settings,
                 assessment: AssessmentConfig) -> None:
        self.sessions = sessions
        self.tz = tz
        self.settings = settings
        self.assessment_config = assessment

    async def assessment(self, month: str) -> list[Score]:
        """考评 of one month: every department with a KPI to score, ranked within its tier."""
        first, last = month_days(month)
        start, end = period(first, last, self.tz)
        async with self.sessions() as session:
            measures = await queries.order_measures(session, "department", start, end)
        scores = []
        for code, m in measures.items():
            dept = self.settings.department(code) if code else None
            if dept is None:
                continue  # no longer in the directory: nobody to assess
            values: dict[str, float | int | None] = {**figures(m), **{k: m.get(k) for k in DEDUCTIBLE}}
            got = score(self.assessment_config, values)
            if got is not None:
                scores.append(Score(code, dept.level, *got))
        return ranked(scores)

    async def kpis(self, first: date, last: date, by: str | None = None,
                   progress: queries.Progress | None = None) -> list[Row]:
        """One row per group (by None: one row, the whole hotline), sorted by the group's code."""
        start, end = period(first, last, self.tz)
        async with self.sessions() as session:
            measures = await queries.order_measures(session, by, start, end, progress, tz=self.tz)
            calls = await queries.call_measures(session, by, start, end, short_abandon_seconds=SHORT_ABANDON_SECONDS,
                                                answer_within_seconds=ANSWER_WITHIN_SECONDS, tz=self.tz)
            callbacks = await queries.callback_measures(session, by, start, end, self.tz)
        if progress is not None:
            progress(1, 1)
        for part in (calls, callbacks):
            for key, m in part.items():
                measures.setdefault(key, {}).update(m)
        return [Row(key, figures(m)) for key, m in sorted(measures.items())]


REPORTS: web.AppKey[Reports] = web.AppKey("reports", Reports)
