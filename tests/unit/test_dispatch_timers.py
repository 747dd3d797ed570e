"""Timer planning on the working-day calendar: across National Day 2026 and its 调休 Saturday."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.config import EscalationSettings
from dispatch.sla import SlaPolicy, SlaRules, deadlines, share_of_window
from dispatch.timers import PlanInput, plan, still_due
from dispatch.workcalendar import WorkCalendar
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import AssignmentRole, AssignmentStatus, Status

BJ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
ESC = EscalationSettings()


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BJ).astimezone(UTC)


def state(status: Status, *assignments: wo.AssignmentState) -> wo.OrderState:
    return wo.OrderState(status=status, assignments=assignments)


def lead(sign_by: datetime | None, reply_by: datetime | None, status: AssignmentStatus = AssignmentStatus.DISPATCHED,
         department: str = "scjgj") -> wo.AssignmentState:
    return wo.AssignmentState(department, AssignmentRole.LEAD, status, None, sign_by, reply_by, None)


def by_kind(specs: list) -> dict[str, datetime]:
    return {s.kind: s.due_at for s in specs}


def test_deadlines_skip_national_day_and_count_the_tiaoxiu_saturday() -> None:
    rules = SlaRules({("complaint", "normal"): SlaPolicy(4, 5)})
    dispatched = bj(2026, 9, 30, 16, 0)  # Wednesday before the holiday, 16:00
    dl = deadlines(rules, CAL, "complaint", "normal", dispatched)
    # 4 working hours: 1.5 h on 30 Sep, then nothing until Thu 8 Oct 08:30 + 2.5 h
    assert dl.sign_by == bj(2026, 10, 8, 11, 0)
    # 5 working days: 8 Oct (Thu), 9 (Fri), 10 (Sat, 调休 working day), 12 (Mon), 13 (Tue)
    assert dl.reply_by == bj(2026, 10, 13, 17, 30)
    assert dl.return_by == bj(2026, 10, 9, 17, 30)


def test_plan_for_a_dispatched_order() -> None:
    dispatched = bj(2026, 9, 30, 16, 0)
    a = lead(bj(2026, 10, 8, 11, 0), bj(2026, 10, 13, 17, 30))
    specs = plan(state(Status.DISPATCHED, a), PlanInput(CAL, ESC, "working", [dispatched]))
    due = by_kind(specs)
    # 催签 at half the sign window in working time: 2 of 4 h → 8 Oct 09:00 (never on the holiday)
    assert due["sign_reminder"] == bj(2026, 10, 8, 9, 0)
    assert due["sign_overdue"] == bj(2026, 10, 8, 11, 0)
    assert due["sign_escalation"] == bj(2026, 10, 8, 16, 30)  # + 4 working hours (lunch skipped)
    # 催办 at 75% of the reply window's working time: 1.5 h + 5 × 7.5 h = 39 h, 29.25 h in is
    # Mon 12 Oct (after 1.5 + 3 × 7.5 = 24 h), 3.5 h in the morning and 1.75 h after lunch
    assert due["reply_reminder"] == bj(2026, 10, 12, 15, 15)
    assert due["reply_overdue"] == bj(2026, 10, 13, 17, 30)
    assert due["reply_escalation"] == bj(2026, 10, 15, 17, 30)  # + 2 working days
    assert {s.level for s in specs if s.kind.endswith("escalation")} == {2}
    assert all(s.assignment == 0 for s in specs)


def test_signing_drops_sign_timers_and_replying_plans_the_follow_up() -> None:
    dispatched = bj(2026, 9, 30, 16, 0)
    signed = lead(bj(2026, 10, 8, 11, 0), bj(2026, 10, 13, 17, 30), AssignmentStatus.SIGNED)
    kinds = {s.kind for s in plan(state(Status.SIGNED, signed), PlanInput(CAL, ESC, "working", [dispatched]))}
    assert kinds == {"reply_reminder", "reply_overdue", "reply_escalation"}
    replied = replace(signed, status=AssignmentStatus.REPLIED)
    specs = plan(state(Status.REPLIED, replied),
                 PlanInput(CAL, ESC, "working", [dispatched], replied_at=bj(2026, 10, 9, 15, 0)))
    # 回访 the next working day, which is the 调休 Saturday
    assert by_kind(specs) == {"follow_up_due": bj(2026, 10, 10, 8, 30)}


def test_calendar_clock_policies_escalate_in_hours() -> None:
    dispatched = bj(2026, 10, 3, 22, 0)  # 特急 on a holiday night: the clock runs anyway
    a = lead(dispatched + timedelta(minutes=30), dispatched + timedelta(hours=8))
    due = by_kind(plan(state(Status.DISPATCHED, a), PlanInput(CAL, ESC, "calendar", [dispatched])))
    assert due["sign_reminder"] == dispatched + timedelta(minutes=15)
    assert due["reply_reminder"] == dispatched + timedelta(hours=6)
    assert due["reply_escalation"] == dispatched + timedelta(hours=12)


def test_withdrawn_and_returned_assignments_have_no_timers() -> None:
    a = lead(bj(2026, 10, 8, 11, 0), bj(2026, 10, 13, 17, 30), AssignmentStatus.RETURNED)
    assert plan(state(Status.RETURNED, a), PlanInput(CAL, ESC, "working", [bj(2026, 9, 30, 16, 0)])) == []


def test_still_due_guards_a_moved_deadline() -> None:
    deadline = bj(2026, 10, 13, 17, 30)
    kw = {"order_status": "signed", "sign_by": None, "deadline": deadline}
    assert still_due("reply_overdue", assignment_status="signed", reply_by=deadline, **kw)
    assert not still_due("reply_overdue", assignment_status="signed", reply_by=deadline + timedelta(days=3), **kw)
    assert not still_due("reply_overdue", assignment_status="replied", reply_by=deadline, **kw)
    assert not still_due("sign_overdue", assignment_status="signed", reply_by=deadline, **kw)
    assert still_due("follow_up_due", order_status="replied", assignment_status=None, sign_by=None, reply_by=None,
                     deadline=None)


def test_working_hours_between_and_share_of_window() -> None:
    assert CAL.working_hours_between(bj(2026, 9, 30, 16, 0), bj(2026, 10, 8, 11, 0)) == 4.0
    assert CAL.working_hours_between(bj(2026, 10, 8, 11, 0), bj(2026, 9, 30, 16, 0)) == 0.0
    # a window entirely outside working hours falls back to clock time
    start, end = bj(2026, 10, 1, 9, 0), bj(2026, 10, 1, 11, 0)
    assert share_of_window(CAL, start, end, 0.5, "working") == bj(2026, 10, 1, 10, 0)
