"""Escalation (催办 → 超期 → 督办): timer rows kept in step with orders, and fired once.

`sync_timers` runs inside the transaction of every work-order change and makes the
order's pending timers agree with `timers.plan`. `tick` claims the due ones with
`SELECT ... FOR UPDATE SKIP LOCKED` (several workers may tick at once, each gets other
rows), checks each still applies, writes its notices to the outbox and marks it fired,
all in one transaction: a crash before the commit leaves the timer pending, a crash
after it leaves it fired, so a restart neither loses nor repeats one.

The tick never locks work orders. A change to an order (which holds the order's lock)
waits for the timer rows a tick holds, never the other way round, so they cannot deadlock.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dispatch import queries
from dispatch.models import Timer
from dispatch.timers import (
    FOLLOW_UP_DUE,
    KINDS,
    LEVEL_NAMES,
    REMINDERS,
    PlanInput,
    TimerSpec,
    plan,
    still_due,
)
from hotline.domain.vocabulary import Status
from hotline.outbox import enqueue_many
from hotline.tasks import RoundLog

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from dispatch.config import EscalationSettings
    from dispatch.notices import NoticeWriter
    from dispatch.sla import Clock as SlaClock
    from dispatch.sla import SlaRules
    from dispatch.workcalendar import WorkCalendar
    from hotline.clock import Clock
    from hotline.metrics import Metrics
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import Assignment, WorkOrder
    from hotline.workorders import Change

log = logging.getLogger(__name__)


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class Fired:
    timer_id: int
    kind: str
    level: int
    number: str
    department: str | None
    deadline: str | None


def escalation_notices(kind: str, department: str, parent: str | None, office: str) -> list[tuple[str, str]]:
    """(department, webhook event) pairs for one fired timer. Pure.

    A village's lateness is also its town's: the town sub-dispatched it and stays accountable.

    >>> escalation_notices("reply_escalation", "taoyuan", "qingxi", "dcs")
    [('taoyuan', 'workorder.escalated'), ('qingxi', 'workorder.escalated'), ('dcs', 'workorder.escalated')]
    """
    level = KINDS[kind][0]
    if kind == FOLLOW_UP_DUE:
        return []
    event = {0: "workorder.reminder", 1: "workorder.overdue", 2: "workorder.escalated"}[level]
    out = [(department, event)]
    if parent and level >= 1:
        out.append((parent, event))
    if level >= 2 and office not in (department, parent):
        out.append((office, event))
    return out


class Escalation:
    def __init__(self, sessions: SessionFactory, clock: Clock, calendar: WorkCalendar, sla: SlaRules,
                 settings: EscalationSettings, writer: NoticeWriter, metrics: Metrics,
                 publish: Callable[[str, dict[str, Any]], Awaitable[None]],
                 nudge: Callable[[], Awaitable[None]]) -> None:
        self.sessions = sessions
        self.clock = clock
        self.calendar = calendar
        self.sla = sla
        self.settings = settings
        self.writer = writer
        self.metrics = metrics
        self.publish = publish
        self.nudge = nudge

    def _policy_clock(self, order: WorkOrder) -> SlaClock:
        try:
            return self.sla.policy(order.category or "other", order.urgency).clock
        except LookupError:
            return "working"

    # ------------------------------------------------------------ keeping timers in step
    async def sync_timers(self, change: Change) -> None:
        """Effect: cancel the order's pending timers that no longer apply, add the missing ones."""
        before, after, order = change.before, change.after, change.order
        had = any(a.active for a in before.assignments) or before.status is Status.REPLIED
        has = any(a.active for a in after.assignments) or after.status is Status.REPLIED
        if not had and not has:
            return
        session = change.session
        await session.flush()  # new assignment rows get their ids
        rows = list(order.assignments)
        specs = plan(after, PlanInput(self.calendar, self.settings, self._policy_clock(order),
                                      [r.dispatched_at for r in rows], order.replied_at or change.now,
                                      self.sla.follow_up_after_working_days))
        existing = await queries.live_timers(session, order.id)
        wanted = {self._key(s, rows): s for s in specs}
        have = {(t.assignment_id, t.kind, t.data.get("deadline")): t for t in existing}
        for key, t in have.items():
            if t.fired_at is None and key not in wanted:
                t.cancelled_at = change.now
                t.data = {**t.data, "cancelled_by": change.event.kind}
        fired_kinds = {(t.assignment_id, t.kind) for t in existing if t.fired_at is not None}
        for key, s in wanted.items():
            if key in have:
                continue
            aid = key[0]
            if s.kind in REMINDERS and s.due_at <= change.now and (aid, s.kind) in fired_kinds:
                continue  # a moved deadline: its reminder already went out once, not again at once
            dept = rows[s.assignment].department_code if s.assignment is not None else order.lead_department
            session.add(Timer(work_order_id=order.id, assignment_id=aid, kind=s.kind, level=s.level,
                              due_at=s.due_at, data={"deadline": iso(s.deadline), "department": dept}))

    @staticmethod
    def _key(s: TimerSpec, rows: Sequence[Assignment]) -> tuple[int | None, str, str]:
        return (rows[s.assignment].id if s.assignment is not None else None, s.kind, iso(s.deadline))

    # ------------------------------------------------------------ firing
    async def tick(self, now: datetime | None = None, limit: int = 500) -> list[Fired]:
        """Fire the due timers (at most `limit`); return what fired.

        Rows, not ORM objects, and one statement per step, so a tick's cost is the number
        of due timers, whatever the size of the tables."""
        now = now or self.clock()
        fired: list[Fired] = []
        done: list[dict[str, Any]] = []
        notices: list[dict[str, Any]] = []
        history: list[tuple[int, dict[str, Any]]] = []  # (order id, event data): the order's history
        async with self.sessions() as session, session.begin():
            due = await queries.claim_due_timers(session, now, limit)
            if not due:
                return []
            orders = await queries.order_rows(session, {t.work_order_id for t in due})
            assignments = await queries.assignment_rows(
                session, {t.assignment_id for t in due if t.assignment_id is not None})
            for t in due:
                order = orders[t.work_order_id]
                a = assignments.get(t.assignment_id) if t.assignment_id is not None else None
                deadline = t.data.get("deadline")
                ok = still_due(t.kind, order_status=order.status, assignment_status=a.status if a else None,
                               sign_by=a.sign_by if a else None, reply_by=a.reply_by if a else None,
                               deadline=datetime.fromisoformat(deadline) if deadline else None)
                if not ok:  # the order moved on and the sync has not cancelled it yet
                    done.append({"id": t.id, "cancelled_at": now, "data": {**t.data, "cancelled_by": "no_longer_due"}})
                    continue
                level = KINDS[t.kind][0]
                info = {"timer": t.kind, "timer_name": KINDS[t.kind][1], "level": level,
                        "level_name": LEVEL_NAMES[level][0], "deadline": deadline, "due_at": iso(t.due_at)}
                notified = []
                if a is not None:
                    for dept, event in escalation_notices(t.kind, a.department_code, a.parent_department,
                                                          self.settings.supervision_office):
                        row = self.writer.values(order, a, dept, event, {**info, "department": a.department_code}, now)
                        if row is not None:
                            notices.append(row)
                        if level >= self.settings.sms_heads_from_level:
                            notices.extend(self.writer.head_sms(order, dept, info, now))
                        notified.append(dept)
                done.append({"id": t.id, "fired_at": now, "data": {**t.data, "notified": notified}})
                fired.append(Fired(t.id, t.kind, level, order.number, a.department_code if a else None, deadline))
                history.append((t.work_order_id, {**info, "department": a.department_code if a else None,
                                                  "notified": notified}))
            await enqueue_many(session, notices)
            await queries.mark_timers(session, done)
            await queries.append_timer_events(session, history, now)
        for f in fired:
            self.metrics.timers_fired.labels(f.kind).inc()
            try:
                await self.publish("sla", {"number": f.number, "kind": f.kind, "level": f.level,
                                           "department": f.department, "deadline": f.deadline})
            except Exception:  # the dashboards miss one event; the timer itself is done
                log.warning("escalation: could not publish %s of %s", f.kind, f.number, exc_info=True)
        if notices:
            await self.nudge()
        return fired

    async def run(self, batch: int = 500) -> None:
        """Tick until cancelled: at once again while there is a backlog, else every tick_seconds."""
        rounds = RoundLog("escalation: timer tick", log)
        while True:
            try:
                n = len(await self.tick(limit=batch))
                rounds.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                rounds.failed(exc)
                n = 0
            if n < batch:
                await asyncio.sleep(self.settings.tick_seconds)
