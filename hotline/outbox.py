"""The outbox: every message that leaves the process, delivered at least once.

`enqueue` writes a row in the caller's transaction, so a message exists exactly when
the change that caused it was committed. `Outbox.claim` leases due rows (`SELECT ... FOR
UPDATE SKIP LOCKED` on PostgreSQL, so any number of claimers run side by side) and commits
the lease; the send happens outside any transaction; `deliver` then records the outcome,
but only while the lease is still ours. A process killed mid-send leaves a lease that runs
out, and the row is sent again with the same `delivery_id`, the receiver's idempotency key.

Messages sharing an `ordering_key` go out in id order: a later one waits while an earlier
one is pending or being sent. A dead letter (死信: out of attempts, or refused) no longer
holds the others back; a supervisor may send it again (`retry_dead`).

Who sends: without Redis, `Outbox.run` (claim, then deliver, in the web process); with
Redis, `hotline worker` processes claim and hand each message to an rq job that calls
`deliver_leased` (dispatch.delivery). The same `deliver` runs either way.

Senders are small strategies, one per `kind` (webhook, sms, wechat ...), registered by
the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from hotline.storage import outbox as rows
from hotline.storage.models import OutboxMessage
from hotline.storage.outbox import DEAD, DELIVERED, DELIVERING, PENDING, UNDELIVERED
from hotline.tasks import RoundLog

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.clock import Clock
    from hotline.storage.engine import SessionFactory

log = logging.getLogger(__name__)

RETRY, STALE = "retry", "stale"  # results of one attempt besides delivered/dead
__all__ = ["DEAD", "DELIVERED", "DELIVERING", "PENDING", "RETRY", "STALE", "UNDELIVERED", "DeliveryFailed", "Outbox",
           "RetryPolicy", "Sender", "backoff", "enqueue", "enqueue_many", "message_values"]


@dataclass(frozen=True)
class RetryPolicy:
    lease_seconds: float = 60.0
    max_attempts: int = 12  # with the backoff below: about 1.5 days of retrying
    base_delay_seconds: float = 5.0
    max_delay_seconds: float = 6 * 3600.0
    send_timeout_seconds: float = 10.0  # a send must fit in what is left of its lease

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class DeliveryFailed(Exception):
    """A send that did not succeed. `retryable=False` goes straight to the dead letters."""

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> None:
        """Deliver or raise `DeliveryFailed`; must be safe to call twice for one message."""


def message_values(*, kind: str, target: str, event: str, payload: Mapping[str, Any], now: datetime,
                   work_order_id: int | None = None, ordering_key: str | None = None) -> dict[str, Any]:
    """The columns of a new outbox row (for `enqueue`, or many at once with `enqueue_many`)."""
    return {"delivery_id": str(uuid.uuid4()), "kind": kind, "target": target, "event": event,
            "work_order_id": work_order_id,
            "ordering_key": ordering_key or (f"order:{work_order_id}" if work_order_id else None),
            "payload": dict(payload), "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}


def enqueue(session: AsyncSession, *, kind: str, target: str, event: str, payload: Mapping[str, Any],
            now: datetime, work_order_id: int | None = None, ordering_key: str | None = None) -> OutboxMessage:
    msg = OutboxMessage(**message_values(kind=kind, target=target, event=event, payload=payload, now=now,
                                         work_order_id=work_order_id, ordering_key=ordering_key))
    session.add(msg)
    return msg


async def enqueue_many(session: AsyncSession, messages: Sequence[Mapping[str, Any]]) -> None:
    """Write many `message_values` rows in one statement (timer ticks, bulk notices)."""
    await rows.insert_many(session, messages)


def backoff(attempts: int, rng: random.Random | None = None, *, policy: RetryPolicy = RetryPolicy()) -> float:
    """Exponential backoff with jitter: spreads retries after a receiver outage.

    >>> p = RetryPolicy(base_delay_seconds=5, max_delay_seconds=60)
    >>> [2.5 <= backoff(1, policy=p) <= 5, 5 <= backoff(2, policy=p) <= 10, 30 <= backoff(9, policy=p) <= 60]
    [True, True, True]
    """
    cap = min(policy.max_delay_seconds, policy.base_delay_seconds * 2 ** min(max(0, attempts - 1), 40))
    return (rng or random).uniform(cap / 2, cap)


ResultHook = Callable[[OutboxMessage, str], None]


class Outbox:
    def __init__(self, sessions: SessionFactory, clock: Clock, senders: Mapping[str, Sender] | None = None,
                 *, policy: RetryPolicy | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.senders: dict[str, Sender] = dict(senders or {})
        self.policy = policy or RetryPolicy()
        self.wakeup = asyncio.Event()
        self.on_result: list[ResultHook] = []  # (message, result) for metrics
        self.notifiers: list[Callable[[], Awaitable[None]]] = []  # wake other processes (Redis)

    def register(self, kind: str, sender: Sender) -> None:
        # Two modules with one kind would silently take each other's messages.
        if kind in self.senders:
            raise ValueError(f"outbox kind {kind!r} already has a sender; a module needs a kind of its own")
        self.senders[kind] = sender

    async def nudge(self) -> None:
        """New messages were committed: wake whoever delivers them, here or elsewhere."""
        self.wakeup.set()
        for notify in self.notifiers:
            try:
                await notify()
            except Exception:  # a lost nudge only costs one poll interval
                log.warning("outbox: could not wake the workers", exc_info=True)

    # ------------------------------------------------------------ claiming
    async def claim(self, limit: int = 20) -> list[OutboxMessage]:
        """Lease up to `limit` due messages, each the earliest undelivered one of its ordering key.

        A DELIVERING row among them is an expired lease: its sender died."""
        leased = await self._lease(limit, OutboxMessage)
        return sorted((r[0] for r in leased), key=lambda m: m.id)

    async def claim_leases(self, limit: int = 20) -> list[tuple[int, int]]:
        """Like `claim`, but only the (id, attempt) of each lease: what an rq job needs."""
        leased = await self._lease(limit, OutboxMessage.id, OutboxMessage.attempts)
        return sorted((int(i), int(a)) for i, a in leased)

    async def _lease(self, limit: int, *returning: Any) -> list[Any]:
        if limit <= 0:
            return []
        now = self.clock()
        async with self.sessions() as session, session.begin():
            return await rows.lease_due(session, now, limit, now + self.policy.lease, *returning)

    async def _send(self, message: OutboxMessage) -> DeliveryFailed | None:
        sender = self.senders.get(message.kind)
        if sender is None:
            return DeliveryFailed(f"no sender for kind {message.kind!r}", retryable=True, retry_after=300)
        try:
            async with asyncio.timeout(self.policy.send_timeout_seconds * 1.5):
                await sender.send(message)
        except DeliveryFailed as exc:
            return exc
        except TimeoutError:
            return DeliveryFailed("the sender did not finish in time")
        except Exception as exc:  # a sender bug must not lose the message
            log.exception("outbox: sender %s crashed on %s", message.kind, message.delivery_id)
            return DeliveryFailed(f"{type(exc).__name__}: {exc}")
        return None

    def _outcome(self, message: OutboxMessage, error: DeliveryFailed | None, now: datetime) -> tuple[str, dict[str, Any]]:
        if error is None:
            return DELIVERED, {"status": DELIVERED, "delivered_at": now, "last_error": None}
        if error.retryable and message.attempts < self.policy.max_attempts:
            delay = error.retry_after if error.retry_after is not None else backoff(message.attempts, policy=self.policy)
            return RETRY, {"status": PENDING, "last_error": str(error)[:2000],
                           "next_attempt_at": now + timedelta(seconds=delay)}
        return DEAD, {"status": DEAD, "last_error": str(error)[:2000]}

    async def deliver(self, message: OutboxMessage) -> str:
        """Send one claimed message and record the outcome: delivered, retry, dead (or stale)."""
        return (await self.deliver_many([message]))[0]

    async def deliver_many(self, messages: Sequence[OutboxMessage]) -> list[str]:
        """Send claimed messages side by side, then record every outcome in one transaction
        (one commit, not one per message: commits are what a busy database pays for)."""
        if not messages:
            return []
        errors = await asyncio.gather(*(self._send(m) for m in messages))
        now = self.clock()
        outcomes = [self._outcome(m, e, now) for m, e in zip(messages, errors, strict=True)]
        recorded: set[int] = set()
        # Every update holds only while the lease is still ours (same attempt, still being
        # sent): a slow send whose lease ran out and was claimed again must not overwrite
        # the newer attempt's outcome.
        async with self.sessions() as session, session.begin():
            done = [(m.id, m.attempts) for m, (result, _) in zip(messages, outcomes, strict=True)
                    if result == DELIVERED]
            recorded.update(await rows.record_delivered(session, done, now))  # the usual case, in one statement
            for message, (result, values) in zip(messages, outcomes, strict=True):
                if result != DELIVERED and await rows.record_attempt(session, message.id, message.attempts, values):
                    recorded.add(message.id)
        results = [result if m.id in recorded else STALE for m, (result, _) in zip(messages, outcomes, strict=True)]
        for message, error, result in zip(messages, errors, results, strict=True):
            if error is not None:
                log.warning("outbox: %s %s to %s failed (attempt %d): %s → %s", message.kind,
                            message.delivery_id, message.target, message.attempts, error, result)
            for cb in self.on_result:
                cb(message, result)
        return results

    async def deliver_leased(self, leases: Sequence[tuple[int, int]]) -> list[str]:
        """Deliver messages claimed elsewhere (an rq job), given as (id, attempts) leases:
        each only if its lease is still current and has time left for one send; otherwise
        it is left to the next claim."""
        wanted = dict(leases)
        async with self.sessions() as session:
            found = await rows.messages(session, wanted)
        now = self.clock()
        live = [m for i, m in found.items()
                if m.status == DELIVERING and m.attempts == wanted[i]
                # a message that waited too long in the queue is left to run out and be claimed again
                and (m.next_attempt_at - now).total_seconds() >= self.policy.send_timeout_seconds * 1.5]
        outcome = dict(zip((m.id for m in live), await self.deliver_many(live), strict=True))
        return [outcome.get(i, STALE) for i in wanted]

    async def release(self, message_id: int, attempts: int, reason: str) -> bool:
        """Give a lease back early (its job crashed): retry after a backoff, not after the lease."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            return await rows.record_attempt(session, message_id, attempts, {
                "status": PENDING, "last_error": reason[:2000],
                "next_attempt_at": now + timedelta(seconds=backoff(attempts, policy=self.policy))})

    async def deliver_due(self, limit: int = 20) -> int:
        claimed = await self.claim(limit)
        # Different ordering keys may go in parallel; one key has at most one claimed row.
        await self.deliver_many(claimed)
        return len(claimed)

    async def run(self, idle_seconds: float = 1.0) -> None:
        """In-process delivery loop (no Redis): until cancelled."""
        rounds = RoundLog("outbox: delivery", log)
        while True:
            try:
                n = await self.deliver_due()
                rounds.succeeded()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                rounds.failed(exc)
                n = 0
            if n == 0:
                self.wakeup.clear()
                try:
                    async with asyncio.timeout(idle_seconds):
                        await self.wakeup.wait()
                except TimeoutError:
                    pass

    # ------------------------------------------------------------ supervision
    async def pending_count(self) -> int:
        async with self.sessions() as session:
            return await rows.undelivered_count(session)

    async def retry_dead(self, message_id: int) -> bool:
        """A supervisor sends a dead letter again (same delivery id: receivers dedupe)."""
        async with self.sessions() as session, session.begin():
            revived = await rows.revive(session, message_id, self.clock())
        await self.nudge()
        return revived
