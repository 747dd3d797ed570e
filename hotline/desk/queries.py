"""Every SQL statement of the desk: the caller's history for the screen pop (弹屏)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hotline.domain.vocabulary import Channel, Status
from hotline.storage.models import Citizen, Contact, WorkOrder

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PastOrder:
    number: str
    status: str
    channel: str
    title: str
    category: str | None
    rating: int | None
    confidential: bool
    lead_department: str | None
    created_at: datetime


@dataclass
class History:
    citizen_id: int
    name: str | None
    orders: list[PastOrder] = field(default_factory=list)
    recent_orders: int = 0  # within the frequent-caller window
    contacts_by_channel: dict[str, int] = field(default_factory=dict)
    confidential: bool = False


async def history(session: AsyncSession, citizen_id: int, *, limit: int, since: datetime) -> History:
    """The citizen's earlier orders (newest first) and contacts on every channel."""
    name = (await session.execute(select(Citizen.name).where(Citizen.id == citizen_id))).scalar_one_or_none()
    rows = (await session.execute(
        select(WorkOrder.number, WorkOrder.status, WorkOrder.channel, WorkOrder.title, WorkOrder.category,
               WorkOrder.rating, WorkOrder.confidential, WorkOrder.lead_department, WorkOrder.created_at)
        .where(WorkOrder.citizen_id == citizen_id, WorkOrder.merged_into.is_(None))
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(limit))).all()
    out = History(citizen_id, name, orders=[PastOrder(*r) for r in rows])
    out.recent_orders = (await session.execute(
        select(func.count()).select_from(WorkOrder)
        .where(WorkOrder.citizen_id == citizen_id, WorkOrder.created_at >= since,
               WorkOrder.merged_into.is_(None)))).scalar_one()
    out.confidential = bool((await session.execute(
        select(func.count()).select_from(WorkOrder)
        .where(WorkOrder.citizen_id == citizen_id, WorkOrder.confidential.is_(True)))).scalar_one())
    counts = await session.execute(select(Contact.channel, func.count()).where(Contact.citizen_id == citizen_id)
                                   .group_by(Contact.channel))
    out.contacts_by_channel = {channel: int(n) for channel, n in counts.all()}
    return out


WRITTEN = tuple(c.value for c in Channel if c is not Channel.PHONE)


async def written_waiting(session: AsyncSession, older_than: datetime) -> tuple[int, datetime | None]:
    """Written contacts (SMS, WeChat, web, app, fax) registered and not yet dispatched by an
    agent since before `older_than`: how many, and the oldest one's time."""
    n, oldest = (await session.execute(
        select(func.count(), func.min(WorkOrder.created_at)).select_from(WorkOrder)
        .where(WorkOrder.channel.in_(WRITTEN), WorkOrder.status == Status.REGISTERED.value,
               WorkOrder.created_at <= older_than))).one()
    return int(n), oldest
