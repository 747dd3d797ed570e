"""The working-day calendar (工作日历): Chinese public holidays and 调休 working weekends.

Pure: dates in, dates out. `chinese-calendar` knows the State Council's holiday notices
up to the year it was released; for later years the calendar falls back to Monday–Friday
until the operator lists the new notice's dates under `calendar.extra_holidays` /
`calendar.extra_workdays` (the package is updated about once a year, in December).

>>> from datetime import date
>>> cal = WorkCalendar()
>>> cal.is_workday(date(2026, 10, 1)), cal.is_workday(date(2026, 10, 10))  # 国庆; a 调休 Saturday
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import chinese_calendar

if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)),
                                                (time(13, 30), time(17, 30)))
_MAX_SCAN_DAYS = 3 * 366  # a calendar with no working day at all is a config error, not a hang


@dataclass(frozen=True)
class WorkCalendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:  # a year the package has no notice for yet
            return day.weekday() < 5

    def knows_year(self, year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    # ------------------------------------------------------------ conversions
    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("naive datetime: the hotline keeps every moment timezone-aware")
        return moment.astimezone(self.tz)

    def _at(self, day: date, t: time) -> datetime:
        return datetime.combine(day, t, self.tz).astimezone(UTC)

    def end_of_day(self, day: date) -> datetime:
        """The end of working hours on `day`, as an aware UTC moment."""
        return self._at(day, self.hours[-1][1])

    def start_of_day(self, day: date) -> datetime:
        """The start of working hours on `day`, as an aware UTC moment."""
        return self._at(day, self.hours[0][0])

    # ------------------------------------------------------------ arithmetic
    def workdays_after(self, day: date) -> Iterable[date]:
        d = day
        for _ in range(_MAX_SCAN_DAYS):
            d += timedelta(days=1)
            if self.is_workday(d):
                yield d
        raise ValueError("no working day within three years: check calendar.extra_holidays")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after the start day.

        The start day itself does not count (期间开始之日不计入), so an order dispatched
        on a Friday with 1 working day is due at the end of Monday, and one dispatched on
        a holiday counts from the first working day after it.
        """
        if days < 1:
            raise ValueError("days must be at least 1")
        day = self.local(start).date()
        for n, d in enumerate(self.workdays_after(day), start=1):
            if n == days:
                return self.end_of_day(d)
        raise AssertionError("unreachable")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """`hours` of working time after `start`, counted only inside working hours."""
        remaining = timedelta(hours=hours)
        local = self.local(start)
        day = local.date()
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_workday(day):
                for begin, end in self.hours:
                    period_start = max(self._at(day, begin), start)
                    period_end = self._at(day, end)
                    if period_start >= period_end:
                        continue
                    available = period_end - period_start
                    if remaining <= available:
                        return period_start + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working hours within three years: check the calendar")

    def start_of_working_day_after(self, start: datetime, days: int = 1) -> datetime:
        """The opening of the `days`-th working day after the start day (e.g. 回访 the day after)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        for n, d in enumerate(self.workdays_after(self.local(start).date()), start=1):
            if n == days:
                return self.start_of_day(d)
        raise AssertionError("unreachable")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working time between two moments, in hours (0 when end is not after start).

        >>> from datetime import datetime, timezone
        >>> cal = WorkCalendar()
        >>> fri_4pm = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)   # 16:00 Beijing
        >>> mon_10am = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 Beijing
        >>> cal.working_hours_between(fri_4pm, mon_10am)  # 1.5 h on Friday, 1.5 h on Monday
        3.0
        """
        if end <= start:
            return 0.0
        total = timedelta()
        day = self.local(start).date()
        last = self.local(end).date()
        while day <= last:
            if self.is_workday(day):
                for begin, finish in self.hours:
                    a = max(self._at(day, begin), start)
                    b = min(self._at(day, finish), end)
                    if b > a:
                        total += b - a
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Whole working days after start's day up to and including end's day."""
        a, b = self.local(start).date(), self.local(end).date()
        n = 0
        d = a
        while d < b:
            d += timedelta(days=1)
            n += self.is_workday(d)
        return n
