"""The KPIs of a period, per group: what `hotline report` and `/api/v1/reports/kpis` give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from hotline.reports import queries
from hotline.reports.kpi import figures

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

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


class Reports:
    def __init__(self, sessions: SessionFactory, tz: ZoneInfo) -> None:
        self.sessions = sessions
        self.tz = tz

    async def kpis(self, first: date, last: date, by: str | None = None,
                   progress: queries.Progress | None = None) -> list[Row]:
        """One row per group (by None: one row, the whole hotline), sorted by the group's code."""
        start, end = period(first, last, self.tz)
        async with self.sessions() as session:
            measures = await queries.order_measures(session, by, start, end, progress)
            calls = await queries.call_measures(session, by, start, end, short_abandon_seconds=SHORT_ABANDON_SECONDS,
                                                answer_within_seconds=ANSWER_WITHIN_SECONDS)
            callbacks = await queries.callback_measures(session, by, start, end)
        if progress is not None:
            progress(1, 1)
        for part in (calls, callbacks):
            for key, m in part.items():
                measures.setdefault(key, {}).update(m)
        return [Row(key, figures(m)) for key, m in sorted(measures.items())]


REPORTS: web.AppKey[Reports] = web.AppKey("reports", Reports)
