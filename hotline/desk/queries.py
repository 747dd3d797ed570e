"""Every SQL statement of the desk: the caller's history for the screen pop (弹屏), the
written contacts waiting, the inbox and its claims (认领)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, or_, select

from hotline.desk.models import DeskClaim
from hotline.domain.vocabulary import Channel, Status
from hotline.storage.models import Attachment, Citizen, Contact, WorkOrder
from hotline.storage.queries import insert_for

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


# ---------------------------------------------------------------- the inbox and its claims

@dataclass(frozen=True)
class InboxRow:
    number: str
    version: int
    channel: str
    title: str
    description: str
    category: str | None
    confidential: bool
    created_at: datetime
    claimed_by: int | None
    claimed_name: str | None
    claim_expires: datetime | None


async def inbox(session: AsyncSession, now: datetime, limit: int) -> list[InboxRow]:
    """Written contacts waiting for an agent (登记, not dispatched), oldest first, with the
    claim on each that has not lapsed."""
    live = and_(DeskClaim.work_order_id == WorkOrder.id, DeskClaim.expires_at > now)
    rows = await session.execute(
        select(WorkOrder.number, WorkOrder.version, WorkOrder.channel, WorkOrder.title, WorkOrder.description,
               WorkOrder.category, WorkOrder.confidential, WorkOrder.created_at, DeskClaim.user_id,
               DeskClaim.user_name, DeskClaim.expires_at)
        .outerjoin(DeskClaim, live)
        .where(WorkOrder.channel.in_(WRITTEN), WorkOrder.status == Status.REGISTERED.value)
        .order_by(WorkOrder.created_at, WorkOrder.id).limit(limit))
    return [InboxRow(*r) for r in rows.all()]


async def inbox_order(session: AsyncSession, number: str) -> tuple[int, str, str] | None:
    """(id, channel, status) of an order, or None."""
    row = (await session.execute(select(WorkOrder.id, WorkOrder.channel, WorkOrder.status)
                                 .where(WorkOrder.number == number))).one_or_none()
    return (int(row[0]), str(row[1]), str(row[2])) if row is not None else None


async def claim(session: AsyncSession, order_id: int, user_id: int, name: str, now: datetime,
                until: datetime) -> tuple[int, str] | None:
    """Take the order for `user_id` in one statement: a new claim, the user's own renewed, or
    one that lapsed. None: somebody else holds it (their id and name from `holder`)."""
    stmt = insert_for(session, DeskClaim).values(work_order_id=order_id, user_id=user_id, user_name=name,
                                                 claimed_at=now, expires_at=until)
    stmt = stmt.on_conflict_do_update(
        index_elements=["work_order_id"],
        set_={"user_id": user_id, "user_name": name, "claimed_at": now, "expires_at": until},
        where=or_(DeskClaim.user_id == user_id, DeskClaim.expires_at <= now)).returning(DeskClaim.user_id)
    got = (await session.execute(stmt)).scalar_one_or_none()
    return None if got is not None else await holder(session, order_id, now)


async def holder(session: AsyncSession, order_id: int, now: datetime) -> tuple[int, str] | None:
    row = (await session.execute(select(DeskClaim.user_id, DeskClaim.user_name)
                                 .where(DeskClaim.work_order_id == order_id, DeskClaim.expires_at > now))).one_or_none()
    return (int(row[0]), str(row[1])) if row is not None else None


async def release(session: AsyncSession, order_id: int, user_id: int | None = None) -> None:
    """Drop the claim (the user's own, or whoever's when `user_id` is None)."""
    q = delete(DeskClaim).where(DeskClaim.work_order_id == order_id)
    if user_id is not None:
        q = q.where(DeskClaim.user_id == user_id)
    await session.execute(q)


# ---------------------------------------------------------------- an order's files

async def attachment_of(session: AsyncSession, number: str, attachment_id: int) -> Attachment | None:
    """The file, if it is one of this order's."""
    return (await session.execute(select(Attachment).join(WorkOrder, Attachment.work_order_id == WorkOrder.id)
                                  .where(Attachment.id == attachment_id, WorkOrder.number == number))
            ).scalar_one_or_none()


async def fax_previews(session: AsyncSession, numbers: list[str]) -> dict[str, tuple[int, int | None]]:
    """order number → (its page-1 preview's id, the original fax file's id) for the fax orders among `numbers`."""
    if not numbers:
        return {}
    rows = await session.execute(
        select(WorkOrder.number, Attachment.id, Attachment.kind).join(Attachment, Attachment.work_order_id == WorkOrder.id)
        .where(WorkOrder.number.in_(numbers), Attachment.kind.in_(("fax", "fax_preview"))).order_by(Attachment.id))
    found: dict[str, dict[str, int]] = {}
    for number, att_id, kind in rows.all():
        found.setdefault(number, {}).setdefault(kind, att_id)  # the first fax of an order: its own pages
    return {n: (k["fax_preview"], k.get("fax")) for n, k in found.items() if "fax_preview" in k}
