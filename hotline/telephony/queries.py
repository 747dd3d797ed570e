"""Telephony's queries: every SQL statement of the module, so that the call desk and the
phone API call a function and never write SQL. Its own tables (call records, callback
tasks) and its reads of the core's (agents, a caller's earlier orders, the draft of a call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text, update

from hotline.domain.vocabulary import Channel
from hotline.storage.models import Attachment, Citizen, User, WorkOrder
from hotline.storage.models import Contact as ContactRow
from hotline.storage.queries import insert_for
from hotline.telephony.models import OPEN_TASK, CallbackTask, CallRecord

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.contact import AttachmentIn


async def agent_of_extension(session: AsyncSession, extension: str) -> int | None:
    return (await session.execute(select(User.id).where(User.extension == extension, User.active.is_(True))
                                  .order_by(User.id))).scalars().first()


@dataclass(frozen=True)
class Caller:
    name: str | None
    recent: list[Any]  # (number, status, title, created_at) of the latest orders


async def caller(session: AsyncSession, citizen_id: int, *, recent: int = 5) -> Caller:
    """What the agent is shown of a known caller before answering."""
    rows = list((await session.execute(
        select(WorkOrder.number, WorkOrder.status, WorkOrder.title, WorkOrder.created_at)
        .where(WorkOrder.citizen_id == citizen_id).order_by(WorkOrder.id.desc()).limit(recent))).all())
    name = (await session.execute(select(Citizen.name).where(Citizen.id == citizen_id))).scalar() or (
        await session.execute(select(WorkOrder.contact_name).where(
            WorkOrder.citizen_id == citizen_id, WorkOrder.contact_name.is_not(None)).limit(1))).scalar()
    return Caller(name, rows)


async def order_of_call(session: AsyncSession, linkedid: str) -> int | None:
    """The order the call's contact opened (its draft), by the call's Linkedid."""
    return (await session.execute(select(ContactRow.work_order_id).where(
        ContactRow.channel == Channel.PHONE.value, ContactRow.external_id == linkedid))).scalar()


async def order_number(session: AsyncSession, order_id: int) -> str:
    return (await session.execute(select(WorkOrder.number).where(WorkOrder.id == order_id))).scalar_one()


async def attach_recording(session: AsyncSession, order_id: int, rec: AttachmentIn, now: datetime) -> None:
    """The call's recording on its order, once (a replay of the same call adds nothing)."""
    known = await session.execute(select(Attachment.id).where(
        Attachment.work_order_id == order_id, Attachment.kind == "recording", Attachment.location == rec.location))
    if known.first() is None:
        session.add(Attachment(work_order_id=order_id, kind=rec.kind, filename=rec.filename,
                               content_type=rec.content_type, size=rec.size, sha256=rec.sha256,
                               location=rec.location, created_at=now))


async def call_recorded(session: AsyncSession, linkedid: str) -> bool:
    return (await session.execute(select(CallRecord.id).where(CallRecord.linkedid == linkedid))).first() is not None


async def record_call(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """One call record per Linkedid: the same call seen twice (a take-over) is kept once."""
    await session.execute(insert_for(session, CallRecord).values(**values)
                          .on_conflict_do_nothing(index_elements=["linkedid"]))


async def missed_call(session: AsyncSession, *, phone: str, citizen_id: int | None, reason: str, linkedid: str,
                      ended_at: datetime | None, now: datetime) -> int:
    """The number's open callback task (回拨), made or counted on: one per number."""
    ins = insert_for(session, CallbackTask).values(
        phone=phone, citizen_id=citizen_id, reason=reason, status="open", missed_calls=1, attempts=0,
        first_call_id=linkedid, last_call_id=linkedid, last_call_at=ended_at, created_at=now, updated_at=now)
    ins = ins.on_conflict_do_update(
        # Literal, so PostgreSQL can match it to the partial index's predicate.
        index_elements=["phone"], index_where=text("status IN ('open', 'calling')"),
        set_={"missed_calls": CallbackTask.missed_calls + 1, "last_call_id": linkedid, "last_call_at": ended_at,
              "updated_at": now})
    return int((await session.execute(ins.returning(CallbackTask.id))).scalar_one())


async def close_open_tasks(session: AsyncSession, phone: str, *, result: str, linkedid: str, agent_id: int | None,
                           now: datetime) -> None:
    """The citizen got through (called again and was answered): their open task is done."""
    await session.execute(update(CallbackTask).where(
        CallbackTask.phone == phone, CallbackTask.status.in_(OPEN_TASK)).values(
        status="done", result=result, result_call_id=linkedid, agent_id=agent_id, done_at=now, updated_at=now))


async def task_for_update(session: AsyncSession, task_id: int) -> CallbackTask | None:
    return await session.get(CallbackTask, task_id, with_for_update=True)


async def reopen_task(session: AsyncSession, task_id: int) -> None:
    """A callback that was not dialled after all waits for the next try."""
    await session.execute(update(CallbackTask).where(CallbackTask.id == task_id,
                                                     CallbackTask.status == "calling").values(status="open"))


async def call_by_linkedid(session: AsyncSession, linkedid: str) -> CallRecord | None:
    return (await session.execute(select(CallRecord).where(CallRecord.linkedid == linkedid))).scalar()


async def calls(session: AsyncSession, *, outcome: str | None, caller_number: str | None,
                limit: int) -> list[CallRecord]:
    q = select(CallRecord).order_by(CallRecord.id.desc()).limit(limit)
    if outcome:
        q = q.where(CallRecord.outcome == outcome)
    if caller_number:
        q = q.where(CallRecord.caller == caller_number)
    return list((await session.execute(q)).scalars())


async def callback_tasks(session: AsyncSession, *, status: str | None, limit: int) -> list[CallbackTask]:
    """Tasks in `status`, or the open ones, newest first."""
    q = select(CallbackTask).order_by(CallbackTask.id.desc()).limit(limit)
    q = q.where(CallbackTask.status == status) if status else q.where(CallbackTask.status.in_(OPEN_TASK))
    return list((await session.execute(q)).scalars())


async def queued_calls(session: AsyncSession, start: datetime, end: datetime) -> list[Any]:
    """Inbound calls that reached a queue and started in [start, end) (the wallboard's day)."""
    rows = await session.execute(
        select(CallRecord.started_at, CallRecord.outcome, CallRecord.wait_seconds, CallRecord.talk_seconds)
        .where(CallRecord.direction == "inbound", CallRecord.queue.is_not(None),
               CallRecord.started_at >= start, CallRecord.started_at < end))
    return list(rows.all())
