"""SLA timers (时限提醒): which timers an order should have, kept as rows, fired once.

`plan` is pure: from an order's state it says which timers should exist. `sync_timers`
(an effect, inside the transaction of every work-order change) makes the `timers` rows
agree with the plan: it cancels the pending ones no longer wanted and adds the missing
ones. A timer that fired stays fired; it is never planned twice for the same deadline, so
an approved extension (a new deadline) brings new timers while a restart brings none.

Kinds and levels (the escalation ladder of provincial practice):

    level 0  sign_reminder / reply_reminder   催签 / 催办: to the department, before due
    level 1  sign_overdue / reply_overdue     超期: to the department's head
    level 2  sign_escalation / reply_escalation  督办: to the supervision office (督查室)
    level 0  follow_up_due                    回访: the citizen is to be called back
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dispatch.sla import Clock, later_by, share_of_window
from hotline.domain.vocabulary import AssignmentStatus, Status

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from dispatch.config import EscalationSettings
    from dispatch.workcalendar import WorkCalendar
    from hotline.domain import workorder as wo

SIGN_REMINDER, SIGN_OVERDUE, SIGN_ESCALATION = "sign_reminder", "sign_overdue", "sign_escalation"
REPLY_REMINDER, REPLY_OVERDUE, REPLY_ESCALATION = "reply_reminder", "reply_overdue", "reply_escalation"
FOLLOW_UP_DUE = "follow_up_due"

KINDS: dict[str, tuple[int, str, str]] = {  # kind → (level, Chinese, English)
    SIGN_REMINDER: (0, "催签", "sign-for reminder"),
    SIGN_OVERDUE: (1, "签收超期", "sign-for overdue"),
    SIGN_ESCALATION: (2, "签收超期督办", "sign-for escalated"),
    REPLY_REMINDER: (0, "催办", "reply reminder"),
    REPLY_OVERDUE: (1, "办理超期", "reply overdue"),
    REPLY_ESCALATION: (2, "超期督办", "reply escalated"),
    FOLLOW_UP_DUE: (0, "待回访", "follow-up due"),
}
SIGN_KINDS = frozenset({SIGN_REMINDER, SIGN_OVERDUE, SIGN_ESCALATION})
REPLY_KINDS = frozenset({REPLY_REMINDER, REPLY_OVERDUE, REPLY_ESCALATION})
REMINDERS = frozenset({SIGN_REMINDER, REPLY_REMINDER})
LEVEL_NAMES = {0: ("提醒", "reminder"), 1: ("部门负责人", "department head"), 2: ("督查室", "supervision office")}


@dataclass(frozen=True)
class TimerSpec:
    kind: str
    due_at: datetime
    deadline: datetime  # what it watches: a moved deadline is another timer
    assignment: int | None = None  # index into the order's assignments; None: the order itself

    @property
    def level(self) -> int:
        return KINDS[self.kind][0]


@dataclass(frozen=True)
class PlanInput:
    """Everything `plan` needs besides the order's state."""

    calendar: WorkCalendar
    escalation: EscalationSettings
    clock: Clock  # how the order's SLA policy counts hours (working or calendar)
    dispatched_at: Sequence[datetime]  # per assignment, aligned with the state's assignments
    replied_at: datetime | None = None
    follow_up_after_working_days: int = 1


def plan(state: wo.OrderState, p: PlanInput) -> list[TimerSpec]:
    """The timers the order should have now, in no particular order."""
    out: list[TimerSpec] = []
    esc = p.escalation
    for i, a in enumerate(state.assignments):
        if not a.active:
            continue
        start = p.dispatched_at[i]
        if a.status is AssignmentStatus.DISPATCHED and a.sign_by is not None:
            out.append(TimerSpec(SIGN_REMINDER, share_of_window(p.calendar, start, a.sign_by, esc.sign_reminder_at,
                                                                p.clock), a.sign_by, i))
            out.append(TimerSpec(SIGN_OVERDUE, a.sign_by, a.sign_by, i))
            out.append(TimerSpec(SIGN_ESCALATION, later_by(p.calendar, a.sign_by, hours=esc.sign_escalation_after_hours,
                                                           clock=p.clock), a.sign_by, i))
        if a.reply_by is not None:
            out.append(TimerSpec(REPLY_REMINDER, share_of_window(p.calendar, start, a.reply_by, esc.reply_reminder_at,
                                                                 p.clock), a.reply_by, i))
            out.append(TimerSpec(REPLY_OVERDUE, a.reply_by, a.reply_by, i))
            escalate_at = (later_by(p.calendar, a.reply_by, hours=esc.reply_escalation_after_hours, clock="calendar")
                           if p.clock == "calendar" else
                           later_by(p.calendar, a.reply_by, working_days=esc.reply_escalation_after_working_days))
            out.append(TimerSpec(REPLY_ESCALATION, escalate_at, a.reply_by, i))
    if state.status is Status.REPLIED and p.replied_at is not None:
        due = p.calendar.start_of_working_day_after(p.replied_at, p.follow_up_after_working_days)
        out.append(TimerSpec(FOLLOW_UP_DUE, due, due, None))
    return out


def still_due(kind: str, *, order_status: str, assignment_status: str | None, sign_by: datetime | None,
              reply_by: datetime | None, deadline: datetime | None) -> bool:
    """Checked again when a timer fires: the order may have moved on since it was planned
    (the sync normally cancels such timers; this guards the race with a concurrent change)."""
    if kind == FOLLOW_UP_DUE:
        return order_status == Status.REPLIED.value
    if assignment_status is None:
        return False
    if kind in SIGN_KINDS:
        return assignment_status == AssignmentStatus.DISPATCHED.value and sign_by == deadline
    if kind in REPLY_KINDS:
        return (assignment_status in (AssignmentStatus.DISPATCHED.value, AssignmentStatus.SIGNED.value)
                and reply_by == deadline)
    return False
