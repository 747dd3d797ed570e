"""Intake's statements: the contact's claim on (channel, external id), looking up a contact
stored before, joining the citizen a concurrent intake linked first, the open order a
follow-up belongs to, by number or by the follow-up window. Intake (`hotline.intake`) is the only caller: the one writer of
contacts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.orm import selectinload

from hotline.domain.vocabulary import OPEN
from hotline.storage.models import Citizen, CitizenIdentity, WorkOrder
from hotline.storage.models import Contact as ContactRow
from hotline.storage.queries import insert_for

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.contact import Contact


async def claim(session: AsyncSession, c: Contact, citizen_id: int | None, order_id: int | None) -> int | None:
    """Insert the contact; its id, or None when (channel, external id) was claimed before."""
    ins = insert_for(session, ContactRow).values(
        channel=c.channel.value, external_id=c.external_id, citizen_id=citizen_id, work_order_id=order_id,
        sender_kind=c.sender.kind if c.sender else None, sender=c.sender.value if c.sender else None,
        text=c.text, received_at=c.received_at, raw=dict(c.raw))
    return (await session.execute(ins.on_conflict_do_nothing(index_elements=["channel", "external_id"])
                                  .returning(ContactRow.id))).scalar_one_or_none()


async def settle(session: AsyncSession, contact_id: int, order_id: int | None, raw: dict[str, Any]) -> None:
    """A command contact, done: the order it concerned, and its raw data with the reply."""
    await session.execute(update(ContactRow).where(ContactRow.id == contact_id).values(
        work_order_id=order_id, raw=raw))


async def raw_of(session: AsyncSession, channel: str, external_id: str) -> dict[str, Any]:
    return (await session.execute(select(ContactRow.raw).where(
        ContactRow.channel == channel, ContactRow.external_id == external_id))).scalar_one() or {}


async def earlier(session: AsyncSession, channel: str, external_id: str) -> Row[int, int | None, int, str, str] | None:
    """(contact id, citizen id, order id, number, status) of the contact stored before."""
    return (await session.execute(
        select(ContactRow.id, ContactRow.citizen_id, WorkOrder.id, WorkOrder.number, WorkOrder.status)
        .join(WorkOrder, WorkOrder.id == ContactRow.work_order_id)
        .where(ContactRow.channel == channel, ContactRow.external_id == external_id))).first()


async def rejoin_citizen(session: AsyncSession, kind: str, value: str, *, orphan: int | None, order_id: int,
                         contact_id: int) -> int:
    """The citizen a concurrent intake linked this identity to first: the new order and
    contact move to them, and the citizen made for nothing goes."""
    winner = (await session.execute(select(CitizenIdentity.citizen_id).where(
        CitizenIdentity.kind == kind, CitizenIdentity.value == value))).scalar_one()
    await session.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(citizen_id=winner))
    await session.execute(update(ContactRow).where(ContactRow.id == contact_id).values(citizen_id=winner))
    await session.execute(delete(Citizen).where(Citizen.id == orphan))
    return int(winner)


async def open_order_of(session: AsyncSession, citizen_id: int, number: str | None) -> WorkOrder | None:
    """The citizen's open order numbered `number`, or their latest open one; locked."""
    q = (select(WorkOrder).where(WorkOrder.citizen_id == citizen_id, WorkOrder.status.in_([s.value for s in OPEN]))
         .options(selectinload(WorkOrder.assignments)).with_for_update(of=WorkOrder))
    q = q.where(WorkOrder.number == number) if number else q.order_by(WorkOrder.id.desc()).limit(1)
    return (await session.execute(q)).scalar_one_or_none()


async def recent_open_order(session: AsyncSession, citizen_id: int, channel: str, sender: str,
                            since: datetime) -> WorkOrder | None:
    """The citizen's open order that `sender` wrote about on `channel` since `since` (the
    follow-up window), the newest if several; locked. Found through the citizen's contacts
    (indexed), as the one-statement way on PostgreSQL finds it (`fastintake`)."""
    written = select(ContactRow.work_order_id).where(
        ContactRow.citizen_id == citizen_id, ContactRow.channel == channel, ContactRow.sender == sender,
        ContactRow.received_at >= since)
    q = (select(WorkOrder).where(WorkOrder.id.in_(written), WorkOrder.citizen_id == citizen_id,
                                 WorkOrder.status.in_([s.value for s in OPEN]))
         .options(selectinload(WorkOrder.assignments)).with_for_update(of=WorkOrder)
         .order_by(WorkOrder.id.desc()).limit(1))
    return (await session.execute(q)).scalar_one_or_none()
