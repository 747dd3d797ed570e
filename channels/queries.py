"""The channels' queries: every SQL statement of the module, so that adapters, the
conversation (`channels.inbox`) and handlers call a function and never write SQL.

Their own tables (SMS opt-outs, the outbound SMS log) and their read models of the
core's (a citizen's orders and contacts, Open311's view of orders). Contacts are only
ever read here: intake is their one writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, or_, select, update

from channels.models import SmsMessage, SmsOptOut
from hotline.domain.vocabulary import OPEN, Status
from hotline.storage.models import Attachment, Citizen, CitizenIdentity, OrderEvent, OutboxMessage, WorkOrder
from hotline.storage.models import Contact as ContactRow
from hotline.storage.queries import insert_for

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

_OPEN = [s.value for s in OPEN]


# ---------------------------------------------------------------- the conversation (SMS, WeChat)

async def citizen_orders(session: AsyncSession, citizen_id: int, *, number: str | None = None,
                         limit: int = 5) -> list[WorkOrder]:
    """A citizen's latest orders (or the one numbered), newest first: what 查询 answers."""
    q = select(WorkOrder).where(WorkOrder.citizen_id == citizen_id)
    if number:
        q = q.where(WorkOrder.number == number)
    return list((await session.execute(q.order_by(WorkOrder.id.desc()).limit(limit))).scalars())


async def order_to_rate(session: AsyncSession, citizen_id: int, statuses: Collection[str], *,
                        number: str | None) -> str | None:
    """The order a citizen's 评价 is about: the one numbered, else their latest not yet rated."""
    q = select(WorkOrder.number).where(WorkOrder.citizen_id == citizen_id, WorkOrder.status.in_(statuses))
    q = q.where(WorkOrder.number == number) if number else q.where(WorkOrder.rating.is_(None))
    return (await session.execute(q.order_by(WorkOrder.id.desc()).limit(1))).scalar_one_or_none()


async def latest_identity(session: AsyncSession, citizen_id: int, kind: str) -> str | None:
    """The citizen's most recently linked identity of `kind` (e.g. the openid to write to)."""
    return (await session.execute(
        select(CitizenIdentity.value).where(CitizenIdentity.citizen_id == citizen_id, CitizenIdentity.kind == kind)
        .order_by(CitizenIdentity.id.desc()).limit(1))).scalar_one_or_none()


async def contact_raw(session: AsyncSession, contact_id: int) -> dict[str, Any]:
    return (await session.execute(select(ContactRow.raw).where(ContactRow.id == contact_id))).scalar_one() or {}


# ---------------------------------------------------------------- SMS: opt-outs and the message log

async def opt_out(session: AsyncSession, phone: str, keyword: str, now: datetime) -> None:
    await session.execute(insert_for(session, SmsOptOut).values(phone=phone, keyword=keyword, opted_out_at=now)
                          .on_conflict_do_nothing(index_elements=["phone"]))


async def opt_in(session: AsyncSession, phone: str) -> None:
    await session.execute(delete(SmsOptOut).where(SmsOptOut.phone == phone))


@dataclass(frozen=True)
class SendState:
    handed_over: bool  # an earlier attempt of this outbox message reached Twilio
    opted_out: bool


async def send_state(session: AsyncSession, delivery_id: str, phone: str) -> SendState:
    done = (await session.execute(select(SmsMessage.message_sid).where(
        SmsMessage.delivery_id == delivery_id))).first()
    return SendState(done is not None, await session.get(SmsOptOut, phone) is not None)


async def record_sms(session: AsyncSession, *, delivery_id: str, sid: str | None, phone: str, status: str,
                     now: datetime) -> None:
    await session.execute(insert_for(session, SmsMessage).values(
        delivery_id=delivery_id, message_sid=sid, to=phone, status=status[:32], created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["delivery_id"]))


async def sms_status(session: AsyncSession, sid: str, status: str, error_code: str | None, now: datetime) -> bool:
    """Twilio's word on a message we sent; False: not one of ours."""
    res = await session.execute(update(SmsMessage).where(SmsMessage.message_sid == sid).values(
        status=status[:32], error_code=error_code, updated_at=now))
    return bool(res.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- Open311's view of orders

@dataclass(frozen=True)
class OrderSearch:
    numbers: Sequence[str] = ()  # given: these orders only ("overrides all other parameters")
    start: datetime | None = None
    end: datetime | None = None
    subjects: Sequence[str] = ()
    closed: bool | None = None  # True: only closed, False: only open, None: both
    closed_statuses: Collection[str] = ()


async def public_orders(session: AsyncSession, search: OrderSearch, limit: int, *, offset: int = 0
                        ) -> tuple[list[WorkOrder], dict[int, list[OrderEvent]], dict[int, str]]:
    """Orders as the public may list them (no drafts), newest first, with their events and
    the first file kept at a URL (Open311's media_url)."""
    q = select(WorkOrder).where(WorkOrder.status != Status.DRAFT.value)
    if search.numbers:
        q = q.where(WorkOrder.number.in_(search.numbers[:limit]))
    else:
        conditions: list[ColumnElement[bool]] = []
        if search.start is not None:
            conditions.append(WorkOrder.created_at >= search.start)
        if search.end is not None:
            conditions.append(WorkOrder.created_at <= search.end)
        if search.subjects:
            conditions.append(WorkOrder.subject.in_(search.subjects))
        if search.closed is True:
            conditions.append(WorkOrder.status.in_(search.closed_statuses))
        elif search.closed is False:
            conditions.append(WorkOrder.status.not_in(search.closed_statuses))
        q = q.where(*conditions)
    orders = list((await session.execute(q.order_by(WorkOrder.id.desc()).offset(offset).limit(limit))).scalars())
    ids = [o.id for o in orders]
    events: dict[int, list[OrderEvent]] = {i: [] for i in ids}
    media: dict[int, str] = {}
    if ids:
        for e in (await session.execute(select(OrderEvent).where(OrderEvent.work_order_id.in_(ids))
                                        .order_by(OrderEvent.work_order_id, OrderEvent.seq))).scalars():
            events[e.work_order_id].append(e)
        for a in (await session.execute(select(Attachment).where(
                Attachment.work_order_id.in_(ids), Attachment.location.like("http%"))
                .order_by(Attachment.id))).scalars():
            media.setdefault(a.work_order_id or 0, a.location)
    return orders, events, media


# ---------------------------------------------------------------- one citizen across channels

@dataclass(frozen=True)
class CitizenView:
    citizen: Citizen
    identities: list[CitizenIdentity]
    orders: list[WorkOrder]
    contacts: Sequence[tuple[ContactRow, str | None]]  # with the number of the order each belongs to


async def citizen_view(session: AsyncSession, citizen_id: int) -> CitizenView | None:
    citizen = await session.get(Citizen, citizen_id)
    if citizen is None:
        return None
    ids = list((await session.execute(select(CitizenIdentity).where(CitizenIdentity.citizen_id == citizen_id)
                                      .order_by(CitizenIdentity.id))).scalars())
    orders = list((await session.execute(select(WorkOrder).where(WorkOrder.citizen_id == citizen_id)
                                         .order_by(WorkOrder.id.desc()).limit(200))).scalars())
    contacts = [(c, n) for c, n in (await session.execute(
        select(ContactRow, WorkOrder.number).outerjoin(WorkOrder, WorkOrder.id == ContactRow.work_order_id)
        .where(ContactRow.citizen_id == citizen_id).order_by(ContactRow.id.desc()).limit(500))).all()]
    return CitizenView(citizen, ids, orders, contacts)


async def citizen_exists(session: AsyncSession, citizen_id: int) -> bool:
    return await session.get(Citizen, citizen_id) is not None


# ---------------------------------------------------------------- media kept at the vendor

@dataclass(frozen=True)
class RemoteMedia:
    id: int
    channel: str  # of the contact that brought it
    kind: str
    filename: str
    content_type: str
    location: str  # the vendor's URL, or wechat-media:<MediaId>


async def remote_media_of(session: AsyncSession, contact_id: int, channels: Collection[str],
                          prefixes: Sequence[str]) -> list[int]:
    """The contact's attachments still at the vendor (location starting with a prefix)."""
    q = (select(Attachment.id).join(ContactRow, ContactRow.id == Attachment.contact_id)
         .where(Attachment.contact_id == contact_id, ContactRow.channel.in_(list(channels)),
                or_(*(Attachment.location.startswith(p, autoescape=True) for p in prefixes)))
         .order_by(Attachment.id))
    return list((await session.execute(q)).scalars())


async def remote_media(session: AsyncSession, attachment_id: int) -> RemoteMedia | None:
    row = (await session.execute(
        select(Attachment.id, ContactRow.channel, Attachment.kind, Attachment.filename, Attachment.content_type,
               Attachment.location).join(ContactRow, ContactRow.id == Attachment.contact_id)
        .where(Attachment.id == attachment_id))).one_or_none()
    return RemoteMedia(*row) if row is not None else None


async def localise_media(session: AsyncSession, attachment_id: int, *, was: str, location: str,
                         content_type: str, size: int, sha256: str | None) -> bool:
    """Point the attachment at our copy, unless another delivery of the same job did first."""
    result = await session.execute(
        update(Attachment).where(Attachment.id == attachment_id, Attachment.location == was)
        .values(location=location, content_type=content_type, size=size, sha256=sha256))
    return bool(getattr(result, "rowcount", 0))


async def outbox_exists(session: AsyncSession, delivery_id: str) -> bool:
    return (await session.execute(select(OutboxMessage.id).where(OutboxMessage.delivery_id == delivery_id))
            ).first() is not None
