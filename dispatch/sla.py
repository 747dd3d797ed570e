"""SLA deadlines (办理时限): pure arithmetic over a policy and the working-day calendar.

A policy says how long a department may take to sign for (签收) and to reply (办结) an
order of a given category and urgency. Hours count either working hours or clock hours
(特急: around the clock); days are working days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from dispatch.workcalendar import WorkCalendar

Clock = Literal["working", "calendar"]


@dataclass(frozen=True)
class SlaPolicy:
    sign_within_hours: float
    reply_within_working_days: int | None = None
    reply_within_hours: float | None = None
    clock: Clock = "working"  # how hours are counted


@dataclass(frozen=True)
class SlaRules:
    """The policy table plus the hotline-wide windows."""

    policies: dict[tuple[str, str], SlaPolicy]  # (category, urgency) -> policy
    return_within_working_days: int = 2
    extension_max_working_days: int = 10
    follow_up_after_working_days: int = 1

    def policy(self, category: str, urgency: str) -> SlaPolicy:
        try:
            return self.policies[(category, urgency)]
        except KeyError:
            raise LookupError(f"no SLA policy for category={category!r} urgency={urgency!r}") from None


@dataclass(frozen=True)
class Deadlines:
    sign_by: datetime
    reply_by: datetime
    return_by: datetime


def _add_hours(cal: WorkCalendar, start: datetime, hours: float, clock: Clock) -> datetime:
    if clock == "calendar":
        return start + timedelta(hours=hours)
    return cal.add_working_hours(start, hours)


def deadlines(rules: SlaRules, cal: WorkCalendar, category: str, urgency: str,
              dispatched_at: datetime) -> Deadlines:
    p = rules.policy(category, urgency)
    sign_by = _add_hours(cal, dispatched_at, p.sign_within_hours, p.clock)
    if p.reply_within_hours is not None:
        reply_by = _add_hours(cal, dispatched_at, p.reply_within_hours, p.clock)
    else:
        assert p.reply_within_working_days is not None  # the settings validator ensures one
        reply_by = cal.add_working_days(dispatched_at, p.reply_within_working_days)
    return_by = min(cal.add_working_days(dispatched_at, rules.return_within_working_days), reply_by)
    return Deadlines(sign_by=sign_by, reply_by=reply_by, return_by=return_by)


def extended_reply_by(cal: WorkCalendar, reply_by: datetime, working_days: int) -> datetime:
    """The reply deadline after an approved extension of `working_days` (延期)."""
    return cal.add_working_days(reply_by, working_days)


def share_of_window(cal: WorkCalendar, start: datetime, end: datetime, share: float, clock: Clock) -> datetime:
    """The moment when `share` of the window [start, end] has passed, counted on `clock`.

    Working-clock windows count only working time, so a reminder (催办) never lands on a
    holiday: 75% of a window that spans National Day falls on a working day.
    """
    if end <= start:
        return end
    if clock == "calendar":
        return start + (end - start) * share
    hours = cal.working_hours_between(start, end)
    if hours <= 0:  # the whole window lies outside working hours (dispatched after closing)
        return start + (end - start) * share
    return min(cal.add_working_hours(start, hours * share), end)


def later_by(cal: WorkCalendar, moment: datetime, *, hours: float | None = None,
             working_days: int | None = None, clock: Clock = "working") -> datetime:
    """`moment` moved on by working days, or by hours counted on `clock`."""
    if working_days is not None:
        return cal.add_working_days(moment, working_days)
    assert hours is not None
    return _add_hours(cal, moment, hours, clock)
