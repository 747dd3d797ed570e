"""The outbox: every message that leaves the process, delivered at least once.

`enqueue` writes a row in the caller's transaction, so a message exists exactly when
the change that caused it was committed. `Outbox.deliver_due` claims due rows with a
lease (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL), commits the claim, sends
outside any transaction, then records the result. A process killed mid-send leaves a
lease that runs out, and the row is sent again with the same `delivery_id`, which is
the receiver's idempotency key. Messages sharing an `ordering_key` (a work order) go
out in id order: a later one waits while an earlier one is pending.

Senders are small strategies, one per `kind` (webhook, sms, wechat ...), registered by
the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hotline.clock import Clock
from hotline.storage.engine import SessionFactory
from hotline.storage.models import OutboxMessage

log = logging.getLogger(__name__)

PENDING, DELIVERING, DELIVERED, DEAD = "pending", "delivering", "delivered", "dead"
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12  # with the backoff below: about 1.5 days of retrying
BASE_DELAY = 5.0
MAX_DELAY = 6 * 3600.0


class DeliveryFailed(Exception):
    """A send that did not succeed. `retryable=False` goes straight to the dead letters."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> None:
        """Deliver or raise `DeliveryFailed`; must be safe to call twice for one message."""


def enqueue(session: AsyncSession, *, kind: str, target: str, event: str, payload: Mapping[str, Any],
            now: datetime, work_order_id: int | None = None, ordering_key: str | None = None) -> OutboxMessage:
    msg = OutboxMessage(delivery_id=str(uuid.uuid4()), kind=kind, target=target, event=event,
                        work_order_id=work_order_id,
                        ordering_key=ordering_key or (f"order:{work_order_id}" if work_order_id else None),
                        payload=dict(payload), status=PENDING, attempts=0, next_attempt_at=now,
                        created_at=now)
    session.add(msg)
    return msg


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: spreads retries after a receiver outage."""
    cap = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))
    return (rng or random).uniform(cap / 2, cap)


class Outbox:
    def __init__(self, sessions: SessionFactory, clock: Clock, senders: Mapping[str, Sender] | None = None,
                 *, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders: dict[str, Sender] = dict(senders or {})
        self.max_attempts = max_attempts
        self.wakeup = asyncio.Event()
        self.on_result: list[Any] = []  # callbacks (message, result: str) for metrics

    def register(self, kind: str, sender: Sender) -> None:
        self.senders[kind] = sender

    async def claim(self, limit: int = 20) -> list[OutboxMessage]:
        """Lease up to `limit` due messages, each the earliest pending one of its ordering key."""
        now = self.clock()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(and_(earlier.ordering_key == OutboxMessage.ordering_key,
                                      earlier.id < OutboxMessage.id,
                                      earlier.status.in_([PENDING, DELIVERING])))
        async with self.sessions() as session, session.begin():
            rows = (await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.status.in_([PENDING, DELIVERING]),
                       OutboxMessage.next_attempt_at <= now, ~blocked)
                .order_by(OutboxMessage.id).limit(limit)
                .with_for_update(skip_locked=True))).scalars().all()
            for m in rows:  # a DELIVERING row here is an expired lease: its sender died
                m.status = DELIVERING
                m.attempts += 1
                m.next_attempt_at = now + LEASE
        return list(rows)

    async def deliver(self, message: OutboxMessage) -> str:
        """Send one claimed message and record the outcome: delivered, retry or dead."""
        sender = self.senders.get(message.kind)
        error: DeliveryFailed | None = None
        if sender is None:
            error = DeliveryFailed(f"no sender for kind {message.kind!r}", retryable=True, retry_after=300)
        else:
            try:
                await sender.send(message)
            except DeliveryFailed as exc:
                error = exc
            except Exception as exc:  # a sender bug must not lose the message
                log.exception("outbox: sender %s crashed on %s", message.kind, message.delivery_id)
                error = DeliveryFailed(f"{type(exc).__name__}: {exc}")
        now = self.clock()
        values: dict[str, Any]
        if error is None:
            result, values = DELIVERED, {"status": DELIVERED, "delivered_at": now, "last_error": None}
        elif error.retryable and message.attempts < self.max_attempts:
            delay = error.retry_after if error.retry_after is not None else backoff(message.attempts)
            result, values = "retry", {"status": PENDING, "last_error": str(error)[:2000],
                                       "next_attempt_at": now + timedelta(seconds=delay)}
        else:
            result, values = DEAD, {"status": DEAD, "last_error": str(error)[:2000]}
        async with self.sessions() as session, session.begin():
            # Only if our lease is still ours: a slow send whose lease ran out and was
            # re-claimed must not overwrite the newer attempt's outcome.
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id == message.id, OutboxMessage.attempts == message.attempts,
                OutboxMessage.status == DELIVERING).values(**values))
        if error is not None:
            log.warning("outbox: %s %s to %s failed (attempt %d): %s → %s", message.kind,
                        message.delivery_id, message.target, message.attempts, error, result)
        for cb in self.on_result:
            cb(message, result)
        return result

    async def deliver_due(self, limit: int = 20) -> int:
        claimed = await self.claim(limit)
        # Different ordering keys may go in parallel; one key has at most one claimed row.
        await asyncio.gather(*(self.deliver(m) for m in claimed))
        return len(claimed)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """In-process delivery loop (no Redis): until cancelled."""
        while True:
            try:
                n = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox: delivery round failed; retrying")
                n = 0
            if n == 0:
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), idle_seconds)
                except TimeoutError:
                    pass

    async def pending_count(self) -> int:
        async with self.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_([PENDING, DELIVERING])))).scalar_one())

    async def retry_dead(self, message_id: int) -> bool:
        """A supervisor sends a dead letter again."""
        async with self.sessions() as session, session.begin():
            res = await session.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.status == DEAD).values(
                status=PENDING, attempts=0, next_attempt_at=self.clock(), last_error=None))
        self.wakeup.set()
        return bool(res.rowcount)  # type: ignore[attr-defined]
