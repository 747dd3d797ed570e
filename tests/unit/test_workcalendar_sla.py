"""SLA arithmetic on the real 2025/2026 holiday notices (国务院办公厅放假通知) and their 调休 days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dispatch.sla import SlaPolicy, SlaRules, deadlines, extended_reply_by
from dispatch.workcalendar import WorkCalendar

BJ = ZoneInfo("Asia/Shanghai")
cal = WorkCalendar()


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BJ).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(BJ).replace(tzinfo=None)


@pytest.mark.parametrize(("day", "workday"), [
    (date(2026, 10, 1), False),   # 国庆
    (date(2026, 10, 8), True),    # first working day after the 2026 National Day holiday
    (date(2026, 10, 10), True),   # Saturday, 调休 working day
    (date(2026, 9, 20), True),    # Sunday, 调休 working day
    (date(2026, 2, 14), True),    # Saturday before the Spring Festival, 调休
    (date(2026, 2, 16), False),   # 春节
    (date(2026, 2, 23), False),   # Monday, still 春节 holiday
    (date(2025, 1, 26), True),    # Sunday, 调休
    (date(2025, 2, 4), False),    # 春节
    (date(2025, 10, 8), False),   # 国庆 + 中秋 2025
    (date(2025, 10, 11), True),   # Saturday, 调休
    (date(2026, 11, 28), False),  # an ordinary Saturday
])
def test_holidays_and_adjusted_working_weekends(day: date, workday: bool) -> None:
    assert cal.is_workday(day) is workday


def test_working_days_skip_the_national_day_holiday() -> None:
    # Dispatched on the afternoon before 国庆 2026: day 1 is 8 October.
    assert local(cal.add_working_days(bj(2026, 9, 30, 16), 1)) == datetime(2026, 10, 8, 17, 30)
    # 8, 9, 10 (调休 Saturday), 12, 13, 14, 15, 16, 19, 20 October: ten working days.
    assert local(cal.add_working_days(bj(2026, 9, 30, 16), 10)) == datetime(2026, 10, 20, 17, 30)


def test_an_adjusted_saturday_counts_as_a_working_day() -> None:
    # Friday 13 February 2026: the next working day is Saturday the 14th (调休).
    assert local(cal.add_working_days(bj(2026, 2, 13, 10), 1)) == datetime(2026, 2, 14, 17, 30)
    # ... and the one after it is 24 February, after the nine-day Spring Festival.
    assert local(cal.add_working_days(bj(2026, 2, 13, 10), 2)) == datetime(2026, 2, 24, 17, 30)


def test_spring_festival_2025() -> None:
    # Monday 27 January 2025 is the last working day before 春节 (28 Jan – 4 Feb).
    assert local(cal.add_working_days(bj(2025, 1, 27, 9), 3)) == datetime(2025, 2, 7, 17, 30)
    assert local(cal.add_working_days(bj(2025, 1, 27, 9), 4)) == datetime(2025, 2, 8, 17, 30)  # 调休 Saturday


def test_a_start_on_a_holiday_counts_from_the_first_working_day_after_it() -> None:
    assert local(cal.add_working_days(bj(2026, 10, 3, 11), 1)) == datetime(2026, 10, 8, 17, 30)


def test_working_hours_skip_lunch_nights_and_holidays() -> None:
    assert local(cal.add_working_hours(bj(2026, 11, 26, 11), 2)) == datetime(2026, 11, 26, 14, 30)
    assert local(cal.add_working_hours(bj(2026, 9, 30, 16), 4)) == datetime(2026, 10, 8, 11, 0)
    assert local(cal.add_working_hours(bj(2026, 11, 27, 20), 1)) == datetime(2026, 11, 30, 9, 30)  # Fri night
    assert local(cal.add_working_hours(bj(2026, 11, 26, 7), 0.5)) == datetime(2026, 11, 26, 9, 0)


def test_configured_dates_override_the_package_and_years_it_does_not_know() -> None:
    custom = WorkCalendar(extra_holidays=frozenset({date(2027, 1, 1)}), extra_workdays=frozenset({date(2026, 11, 28)}))
    assert custom.is_workday(date(2026, 11, 28))  # an operator's own 调休 Saturday
    assert not custom.is_workday(date(2027, 1, 1))
    assert custom.is_workday(date(2027, 1, 4))  # a Monday of a year without a notice: Monday–Friday rule


def test_custom_working_hours() -> None:
    c = WorkCalendar(hours=((time(9, 0), time(17, 0)),))
    assert local(c.add_working_hours(bj(2026, 11, 26, 16), 2)) == datetime(2026, 11, 27, 10, 0)
    assert local(c.add_working_days(bj(2026, 11, 26, 16), 1)) == datetime(2026, 11, 27, 17, 0)


RULES = SlaRules({
    ("complaint", "normal"): SlaPolicy(sign_within_hours=4, reply_within_working_days=5),
    ("complaint", "critical"): SlaPolicy(sign_within_hours=0.5, reply_within_hours=8, clock="calendar"),
    ("inquiry", "normal"): SlaPolicy(sign_within_hours=2, reply_within_working_days=1),
})


def test_deadlines_of_a_complaint_across_national_day() -> None:
    d = deadlines(RULES, cal, "complaint", "normal", bj(2026, 9, 29, 15))
    assert local(d.sign_by) == datetime(2026, 9, 30, 10, 0)  # 2.5 h on the 29th, 1.5 h on the 30th
    assert local(d.reply_by) == datetime(2026, 10, 12, 17, 30)  # 30 Sep, 8, 9, 10 (调休), 12 Oct
    assert local(d.return_by) == datetime(2026, 10, 8, 17, 30)  # 2 working days to return a wrong order


def test_critical_orders_count_clock_hours_even_on_a_holiday_night() -> None:
    d = deadlines(RULES, cal, "complaint", "critical", bj(2026, 10, 1, 22))
    assert local(d.sign_by) == datetime(2026, 10, 1, 22, 30)
    assert local(d.reply_by) == datetime(2026, 10, 2, 6, 0)
    assert d.return_by == d.reply_by  # never later than the reply deadline


def test_extension_moves_the_reply_deadline_by_working_days() -> None:
    # 8, 9 and the 调休 Saturday 10 October.
    assert local(extended_reply_by(cal, bj(2026, 9, 30, 17, 30), 3)) == datetime(2026, 10, 10, 17, 30)


def test_unknown_policy_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="praise"):
        RULES.policy("praise", "normal")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        cal.add_working_days(datetime(2026, 11, 26, 9), 1)
