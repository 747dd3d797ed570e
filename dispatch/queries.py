"""Dispatch's queries: every SQL statement of the module (its read models, and the timers'
own rows), so that handlers and use cases call a function and never write SQL.

Reads of the core's tables (orders, events, the outbox) for dispatch's views sit here
too: they are dispatch's read models.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    and_,
    bindparam,
    column,
    func,
    insert,
    or_,
    select,
    update,
    values,
)
from sqlalchemy.orm import selectinload

from dispatch.models import DispatchHold, Timer
from dispatch.timers import FOLLOW_UP_DUE
from hotline.domain.vocabulary import ACTIVE_ASSIGNMENT, IN_DEPARTMENT, OPEN, Status
from hotline.outbox import DEAD, DELIVERED, UNDELIVERED
from hotline.storage.models import Assignment, Attachment, OrderEvent, OutboxMessage, WorkOrder
from hotline.storage.orders import department_clause, overdue_clause
from hotline.storage.paging import newest_first, page

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

_IN_DEPT = [s.value for s in IN_DEPARTMENT]
_ACTIVE = [s.value for s in ACTIVE_ASSIGNMENT]
Page = tuple[list[Any], str | None]


# ---------------------------------------------------------------- orders

async def order_by_number(session: AsyncSession, number: str) -> WorkOrder | None:
    return (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one_or_none()


async def held_order(session: AsyncSession, number: str, department: str, *, active: bool) -> WorkOrder | None:
    """The order if `department` holds it (and, with `active`, is still working on it)."""
    q = select(WorkOrder).where(WorkOrder.number == number, department_clause(department))
    if active:
        q = q.where(WorkOrder.status.in_(_IN_DEPT))
    return (await session.execute(q)).scalar_one_or_none()


async def merge_candidates(session: AsyncSession, order: WorkOrder, *, days: int = 30,
                           limit: int = 20) -> list[WorkOrder]:
    """Open orders of the last `days` from the same citizen, on the same subject in the same
    area, or at the same address (并单 candidates)."""
    same_citizen = WorkOrder.citizen_id == order.citizen_id if order.citizen_id else None
    same_topic = (and_(WorkOrder.subject == order.subject, WorkOrder.area == order.area)
                  if order.subject and order.area else None)
    same_address = WorkOrder.address == order.address if order.address else None
    conditions = [c for c in (same_citizen, same_topic, same_address) if c is not None]
    if not conditions:
        return []
    return list((await session.execute(
        select(WorkOrder).where(WorkOrder.id != order.id, WorkOrder.status.in_([s.value for s in OPEN]),
                                WorkOrder.created_at >= order.created_at - timedelta(days=days), or_(*conditions))
        .order_by(WorkOrder.id.desc()).limit(limit))).scalars())


# The supervisors' lists, as conditions for `orders_page`.
def overdue(now: datetime) -> ColumnElement[bool]:
    return overdue_clause(now)


def due_soon(now: datetime, until: datetime) -> ColumnElement[bool]:
    """Not overdue, and a deadline falls in [now, until): sign-for while dispatched, reply while
    a department holds the order."""
    return and_(or_(and_(WorkOrder.status == Status.DISPATCHED.value, WorkOrder.sign_by >= now,
                         WorkOrder.sign_by < until),
                    and_(WorkOrder.status.in_(_IN_DEPT), WorkOrder.reply_by >= now, WorkOrder.reply_by < until)),
                ~overdue_clause(now))


def in_status(status: Status) -> ColumnElement[bool]:
    return WorkOrder.status == status.value


async def orders_page(session: AsyncSession, condition: ColumnElement[bool], *, department: str | None,
                      cursor: str | None, limit: int, assignments: bool = False) -> Page:
    """Orders meeting `condition` (and led by `department`), newest first."""
    q = select(WorkOrder).where(condition)
    if department:
        q = q.where(WorkOrder.lead_department == department)
    if assignments:
        q = q.options(selectinload(WorkOrder.assignments))
    rows = list((await session.execute(newest_first(q, WorkOrder.id, cursor, limit))).scalars())
    return page(rows, limit, lambda o: o.id)


async def escalation_levels(session: AsyncSession, order_ids: Collection[int]) -> dict[int, int]:
    """The highest escalation that fired for each order's live assignments."""
    if not order_ids:
        return {}
    rows = await session.execute(
        select(Timer.work_order_id, func.max(Timer.level))
        .join(Assignment, Assignment.id == Timer.assignment_id)
        .where(Timer.work_order_id.in_(order_ids), Timer.fired_at.is_not(None), Timer.kind != FOLLOW_UP_DUE,
               Assignment.status.in_(_ACTIVE))
        .group_by(Timer.work_order_id))
    return {oid: int(level) for oid, level in rows}


async def events_by_order(session: AsyncSession, order_ids: Collection[int], kind: str) -> dict[int, list[OrderEvent]]:
    """Each order's events of `kind`, oldest first (e.g. its follow-up attempts)."""
    if not order_ids:
        return {}
    out: dict[int, list[OrderEvent]] = {}
    rows = (await session.execute(select(OrderEvent).where(OrderEvent.work_order_id.in_(order_ids),
                                                           OrderEvent.kind == kind)
                                  .order_by(OrderEvent.seq))).scalars()
    for e in rows:
        out.setdefault(e.work_order_id, []).append(e)
    return out


async def latest_events(session: AsyncSession, order_ids: Collection[int], kind: str) -> dict[int, OrderEvent]:
    """Each order's last event of `kind` (e.g. when it was returned, and why)."""
    return {k: v[-1] for k, v in (await events_by_order(session, order_ids, kind)).items()}


# ---------------------------------------------------------------- timers

async def timers_of(session: AsyncSession, order_id: int) -> list[Timer]:
    return list((await session.execute(select(Timer).where(Timer.work_order_id == order_id)
                                       .order_by(Timer.due_at, Timer.id))).scalars())


async def live_timers(session: AsyncSession, order_id: int) -> list[Timer]:
    """The order's timers not cancelled: pending ones, and those that fired."""
    return list((await session.execute(select(Timer).where(
        Timer.work_order_id == order_id, Timer.cancelled_at.is_(None)))).scalars())


async def claim_due_timers(session: AsyncSession, now: datetime, limit: int) -> Sequence[Row[Any]]:
    """Due pending timers, locked (`SKIP LOCKED`: other tickers take other rows)."""
    return (await session.execute(
        select(Timer.id, Timer.work_order_id, Timer.assignment_id, Timer.kind, Timer.due_at, Timer.data)
        .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.due_at <= now)
        .order_by(Timer.due_at, Timer.id).limit(limit).with_for_update(skip_locked=True))).all()


async def order_rows(session: AsyncSession, ids: Collection[int]) -> dict[int, Row[Any]]:
    """Plain rows (no ORM objects: a tick's cost is its due timers, whatever the tables' size)."""
    return {o.id: o for o in (await session.execute(
        select(WorkOrder.__table__).where(WorkOrder.id.in_(ids)))).all()}


async def assignment_rows(session: AsyncSession, ids: Collection[int]) -> dict[int, Row[Any]]:
    if not ids:
        return {}
    return {a.id: a for a in (await session.execute(
        select(Assignment.__table__).where(Assignment.id.in_(ids)))).all()}


async def append_timer_events(session: AsyncSession, fired: Sequence[tuple[int, dict[str, Any]]],
                              now: datetime) -> None:
    """One `timer_fired` event per fired timer in its order's history (催办, 超期, 督办).

    An event's `seq` is the order's version after it, so each order's version moves by the
    number of its events: on PostgreSQL one UPDATE ... FROM (VALUES ...) RETURNING for every
    order of the tick, then one multi-row INSERT. The UPDATE takes the orders' row locks, which keeps the
    seqs apart from an agent's concurrent change of the same order."""
    if not fired:
        return
    counts = Counter(order_id for order_id, _ in fired)
    t = cast("Table", WorkOrder.__table__)
    ordered = sorted(counts.items())  # concurrent ticks lock the orders in one order: no deadlock
    if session.get_bind().dialect.name == "postgresql":
        bump = values(column("oid", Integer), column("n", Integer), name="bump").data(ordered)
        rows = (await session.execute(update(t).where(t.c.id == bump.c.oid).values(version=t.c.version + bump.c.n)
                                      .returning(t.c.id, t.c.version, t.c.status))).all()
    else:  # SQLite takes no column list on a VALUES alias; in-process, statements cost no round trip
        await session.execute(update(t).where(t.c.id == bindparam("oid")).values(version=t.c.version + bindparam("n")),
                              [{"oid": oid, "n": n} for oid, n in ordered])
        rows = (await session.execute(select(t.c.id, t.c.version, t.c.status).where(t.c.id.in_(list(counts))))).all()
    seq = {oid: version - counts[oid] for oid, version, _ in rows}
    status = {oid: st for oid, _, st in rows}
    events = []
    for order_id, data in fired:
        seq[order_id] += 1
        events.append({"work_order_id": order_id, "seq": seq[order_id], "kind": "timer_fired",
                       "from_status": status[order_id], "to_status": status[order_id], "actor_kind": "system",
                       "actor_id": "sla-timers", "actor_name": "时限监控", "at": now, "data": data})
    await session.execute(insert(OrderEvent), events)


async def mark_timers(session: AsyncSession, changes: Sequence[dict[str, Any]]) -> None:
    """Fired or cancelled, by primary key: one bulk UPDATE per shape of change."""
    for key in ("fired_at", "cancelled_at"):
        batch = [c for c in changes if key in c]
        if batch:
            await session.execute(update(Timer), batch)


async def notices_page(session: AsyncSession, department: str, *, cursor: str | None, limit: int) -> Page:
    """A department's fired timers (催办, 超期, 督办) with their order's number and title."""
    q = (select(Timer, WorkOrder.number, WorkOrder.title).join(Assignment, Assignment.id == Timer.assignment_id)
         .join(WorkOrder, WorkOrder.id == Timer.work_order_id)
         .where(Assignment.department_code == department, Timer.fired_at.is_not(None)))
    rows = list((await session.execute(newest_first(q, Timer.id, cursor, limit))).all())
    return page(rows, limit, lambda r: r[0].id)


async def held_page(session: AsyncSession, *, cursor: str | None, limit: int) -> Page:
    """Orders auto-dispatch held back (with the hold), still waiting in 登记, newest first."""
    q = (select(DispatchHold, WorkOrder).join(WorkOrder, WorkOrder.id == DispatchHold.work_order_id)
         .where(WorkOrder.status == Status.REGISTERED.value))
    rows = list((await session.execute(newest_first(q, DispatchHold.id, cursor, limit))).all())
    return page(rows, limit, lambda r: r[0].id)


# ---------------------------------------------------------------- files

async def add_attachment(session: AsyncSession, order_id: int, *, filename: str, content_type: str, size: int,
                         sha256: str, location: str, now: datetime) -> Attachment:
    """A department's file (for its reply), with its id."""
    row = Attachment(work_order_id=order_id, contact_id=None, kind="document", filename=filename,
                     content_type=content_type, size=size, sha256=sha256, location=location, created_at=now)
    session.add(row)
    await session.flush()
    return row


async def attachment_of(session: AsyncSession, order_id: int, attachment_id: int) -> Attachment | None:
    return (await session.execute(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.work_order_id == order_id))).scalar_one_or_none()


# ---------------------------------------------------------------- the outbox, as supervisors see it

def _dead(q: Any, target: str | None, kind: str | None) -> Any:
    q = q.where(OutboxMessage.status == DEAD)
    if target:
        q = q.where(OutboxMessage.target == target)
    if kind:
        q = q.where(OutboxMessage.kind == kind)
    return q


async def dead_letters_page(session: AsyncSession, *, target: str | None, kind: str | None, cursor: str | None,
                            limit: int) -> Page:
    """Dead letters (死信) with their order's number, newest first."""
    q = _dead(select(OutboxMessage, WorkOrder.number).outerjoin(WorkOrder, WorkOrder.id == OutboxMessage.work_order_id),
              target, kind)
    rows = list((await session.execute(newest_first(q, OutboxMessage.id, cursor, limit))).all())
    return page(rows, limit, lambda r: r[0].id)


async def dead_letter_ids(session: AsyncSession, *, target: str | None, kind: str | None,
                          limit: int | None = 10_000) -> list[int]:
    return list((await session.execute(_dead(select(OutboxMessage.id), target, kind).limit(limit))).scalars())


async def recent_dead_letters(session: AsyncSession, limit: int = 10) -> list[OutboxMessage]:
    return list((await session.execute(_dead(select(OutboxMessage), None, None)
                                       .order_by(OutboxMessage.id.desc()).limit(limit))).scalars())


async def outbox_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(kind, status, messages), every kind and status."""
    rows = await session.execute(select(OutboxMessage.kind, OutboxMessage.status, func.count())
                                 .group_by(OutboxMessage.kind, OutboxMessage.status)
                                 .order_by(OutboxMessage.kind, OutboxMessage.status))
    return [(kind, status, int(n)) for kind, status, n in rows]


async def outbox_summary(session: AsyncSession) -> tuple[dict[str, dict[str, int]], datetime | None]:
    """kind → status → messages, and the oldest undelivered message's time."""
    rows = (await session.execute(select(OutboxMessage.kind, OutboxMessage.status, func.count())
                                  .where(OutboxMessage.status != DELIVERED)
                                  .group_by(OutboxMessage.kind, OutboxMessage.status))).all()
    delivered = (await session.execute(select(OutboxMessage.kind, func.count())
                                       .where(OutboxMessage.status == DELIVERED)
                                       .group_by(OutboxMessage.kind))).all()
    oldest = (await session.execute(select(func.min(OutboxMessage.created_at))
                                    .where(OutboxMessage.status.in_(UNDELIVERED)))).scalar_one()
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in [*rows, *((k, DELIVERED, n) for k, n in delivered)]:
        counts.setdefault(kind, {})[status] = int(n)
    return counts, oldest
