"""Work-order read queries: filtered, cursor-paged lists and one order with its history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Row, Select, and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from hotline.domain.vocabulary import IN_DEPARTMENT, AssignmentStatus, Status
from hotline.errors import NotFound
from hotline.storage.models import Assignment, Attachment, Citizen, Contact, OrderEvent, WorkOrder
from hotline.storage.paging import newest_first, page

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

_IN_DEPT = [s.value for s in IN_DEPARTMENT]


@dataclass(frozen=True)
class OrderFilter:
    statuses: Sequence[str] = ()
    department: str | None = None  # any live assignment of this department
    category: str | None = None
    area: str | None = None
    channel: str | None = None
    overdue: bool | None = None
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """Past the reply deadline while a department still holds the order, or not signed in time."""
    return or_(and_(WorkOrder.status.in_(_IN_DEPT), WorkOrder.reply_by < now),
               and_(WorkOrder.status == Status.DISPATCHED.value, WorkOrder.sign_by < now))


def is_overdue(order: WorkOrder, now: datetime) -> bool:
    if order.status in _IN_DEPT and order.reply_by is not None and order.reply_by < now:
        return True
    return order.status == Status.DISPATCHED.value and order.sign_by is not None and order.sign_by < now


def department_clause(code: str) -> ColumnElement[bool]:
    return exists().where(Assignment.work_order_id == WorkOrder.id, Assignment.department_code == code,
                          Assignment.status != AssignmentStatus.WITHDRAWN.value)


def _filtered(f: OrderFilter, now: datetime) -> Select[WorkOrder]:
    q = select(WorkOrder)
    if f.statuses:
        q = q.where(WorkOrder.status.in_(list(f.statuses)))
    if f.department:
        q = q.where(department_clause(f.department))
    if f.category:
        q = q.where(WorkOrder.category == f.category)
    if f.area:
        q = q.where(WorkOrder.area == f.area)
    if f.channel:
        q = q.where(WorkOrder.channel == f.channel)
    if f.overdue is True:
        q = q.where(overdue_clause(now))
    elif f.overdue is False:
        q = q.where(~overdue_clause(now))
    if f.text:
        like = f"%{f.text.lower()}%"
        q = q.where(or_(WorkOrder.number.like(like), func.lower(WorkOrder.title).like(like),
                        func.lower(WorkOrder.description).like(like), func.lower(WorkOrder.address).like(like)))
    if f.created_from:
        q = q.where(WorkOrder.created_at >= f.created_from)
    if f.created_to:
        q = q.where(WorkOrder.created_at < f.created_to)
    return q


async def list_orders(session: AsyncSession, f: OrderFilter, now: datetime, *, cursor: str | None,
                      limit: int) -> tuple[list[WorkOrder], str | None]:
    """Newest first (`hotline.storage.paging`)."""
    rows = list((await session.execute(newest_first(_filtered(f, now), WorkOrder.id, cursor, limit))).scalars())
    return page(rows, limit, lambda o: o.id)


async def order_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(WorkOrder))).scalar_one())


async def count_overdue(session: AsyncSession, now: datetime) -> int:
    return int((await session.execute(
        select(func.count()).select_from(WorkOrder).where(overdue_clause(now)))).scalar_one())


@dataclass
class OrderHistory:
    order: WorkOrder
    events: list[OrderEvent]
    contacts: list[Contact]
    attachments: list[Attachment]
    citizen: Citizen | None


async def order_history(session: AsyncSession, number: str, *, department: str | None = None) -> OrderHistory:
    q = select(WorkOrder).where(WorkOrder.number == number).options(selectinload(WorkOrder.assignments))
    if department is not None:
        q = q.where(department_clause(department))
    order = (await session.execute(q)).scalar_one_or_none()
    if order is None:
        # The same answer whether it does not exist or belongs to another department.
        raise NotFound(f"工单 {number} 不存在", code="workorder_not_found")
    events = list((await session.execute(select(OrderEvent).where(OrderEvent.work_order_id == order.id)
                                         .order_by(OrderEvent.seq))).scalars())
    contacts = list((await session.execute(select(Contact).where(Contact.work_order_id == order.id)
                                           .order_by(Contact.id))).scalars())
    attachments = list((await session.execute(select(Attachment).where(Attachment.work_order_id == order.id)
                                              .order_by(Attachment.id))).scalars())
    citizen = await session.get(Citizen, order.citizen_id) if order.citizen_id else None
    return OrderHistory(order, events, contacts, attachments, citizen)


async def merge_target(session: AsyncSession, number: str) -> Row[str, str] | None:
    """The number and status of the order another is to be merged into (并单)."""
    return (await session.execute(select(WorkOrder.number, WorkOrder.status)
                                  .where(WorkOrder.number == number))).first()


async def attachments_of(session: AsyncSession, order_id: int, ids: Sequence[int]) -> set[int]:
    """Which of `ids` are files of this order."""
    if not ids:
        return set()
    return set((await session.execute(select(Attachment.id).where(
        Attachment.id.in_(ids), Attachment.work_order_id == order_id))).scalars())


async def load_for_update(session: AsyncSession, number: str, *, department: str | None = None) -> WorkOrder:
    """The order with its assignments, row-locked until the transaction ends (PostgreSQL).

    With `department`, only an order that department holds a live assignment of; any
    other answers "not found", so a department cannot probe for others' numbers.
    """
    q = (select(WorkOrder).where(WorkOrder.number == number)
         .options(selectinload(WorkOrder.assignments)).with_for_update(of=WorkOrder))
    if department is not None:
        q = q.where(department_clause(department))
    order = (await session.execute(q)).scalar_one_or_none()
    if order is None:
        raise NotFound(f"工单 {number} 不存在", code="workorder_not_found")
    return order
