"""The outbox table's statements: leasing due rows, recording outcomes only while the lease
is ours, and what supervisors ask of it. The delivery logic is `hotline.outbox`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, insert, select, tuple_, update
from sqlalchemy.orm import aliased

from hotline.storage.models import OutboxMessage

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

PENDING, DELIVERING, DELIVERED, DEAD = "pending", "delivering", "delivered", "dead"
UNDELIVERED = (PENDING, DELIVERING)


async def insert_many(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(OutboxMessage), list(rows))


async def lease_due(session: AsyncSession, now: datetime, limit: int, lease_until: datetime,
                    *returning: Any) -> list[Any]:
    """Lease up to `limit` due messages, each the earliest undelivered one of its ordering
    key (`FOR UPDATE SKIP LOCKED`: any number of claimers side by side); one more attempt
    each. A DELIVERING row among them is an expired lease: its sender died."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(and_(earlier.ordering_key == OutboxMessage.ordering_key,
                                  earlier.id < OutboxMessage.id, earlier.status.in_(UNDELIVERED)))
    ids = list((await session.execute(
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(UNDELIVERED), OutboxMessage.next_attempt_at <= now, ~blocked)
        .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True))).scalars())
    if not ids:
        return []
    return list((await session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .values(status=DELIVERING, attempts=OutboxMessage.attempts + 1, next_attempt_at=lease_until)
        .returning(*returning), execution_options={"synchronize_session": False})).all())


async def record_delivered(session: AsyncSession, leases: Collection[tuple[int, int]], now: datetime) -> set[int]:
    """Delivered, for each (id, attempt) lease still ours; the ids recorded."""
    if not leases:
        return set()
    return set((await session.execute(
        update(OutboxMessage).where(tuple_(OutboxMessage.id, OutboxMessage.attempts).in_(list(leases)),
                                    OutboxMessage.status == DELIVERING)
        .values(status=DELIVERED, delivered_at=now, last_error=None)
        .returning(OutboxMessage.id))).scalars())


async def record_attempt(session: AsyncSession, message_id: int, attempts: int, values: Mapping[str, Any]) -> bool:
    """Another outcome (retry later, dead, lease given back), if the lease is still ours."""
    res = await session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.attempts == attempts,
        OutboxMessage.status == DELIVERING).values(**values))
    return bool(res.rowcount)  # type: ignore[attr-defined]


async def messages(session: AsyncSession, ids: Collection[int]) -> dict[int, OutboxMessage]:
    return {m.id: m for m in (await session.execute(
        select(OutboxMessage).where(OutboxMessage.id.in_(list(ids))))).scalars()}


async def undelivered_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_(UNDELIVERED)))).scalar_one())


async def revive(session: AsyncSession, message_id: int, now: datetime) -> bool:
    """A dead letter pending again, its attempts from zero (same delivery id)."""
    res = await session.execute(update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.status == DEAD).values(
        status=PENDING, attempts=0, next_attempt_at=now, last_error=None))
    return bool(res.rowcount)  # type: ignore[attr-defined]
