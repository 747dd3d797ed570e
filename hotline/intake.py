"""Intake (受理): every channel's `Contact` becomes a stored work order, exactly once.

Idempotent on `(channel, external_id)`: a repeat returns the first result and creates
nothing, also when identical contacts race each other (the unique constraint decides).
The contact is committed before `receive` returns, so a channel may acknowledge then.

Two ways to store a new order, with the same result: on PostgreSQL a plain contact goes
through one statement (`hotline.storage.fastintake`), on its own when no creation effect
applies to it; SQLite and contacts with attachments, several identities or follow-ups
take the general way (one statement per row, in one transaction).

Both ways commit in groups (`hotline.groupcommit`): contacts that arrive while a write is
in flight are written together, by one statement (the fast way) or in one transaction
with a savepoint each (the general way), and each is answered after that commit. One
member that cannot be stored fails alone; a repeat in a group gets the first answer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind, Channel, Status
from hotline.errors import HotlineError, ValidationFailed
from hotline.groupcommit import GroupCommit
from hotline.storage import contacts
from hotline.storage.fastintake import FastResult, FastRow, fits, insert_new_orders
from hotline.storage.models import CONTACT_CLAIM, Attachment, WorkOrder
from hotline.storage.queries import (
    allocate_number,
    autocommit,
    ensure_day_sequence,
    resolve_citizen,
    violates,
)
from hotline.workorders import Change, Effect, NewOrderFacts, WorkOrderService, event_row

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.contact import AttachmentIn, Contact, Identity
    from hotline.metrics import Metrics
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory

log = logging.getLogger(__name__)

TITLE_CHARS = 40


@dataclass(frozen=True)
class IntakeResult:
    number: str
    order_id: int
    contact_id: int
    citizen_id: int | None
    status: str
    created: bool = False  # a new work order
    appended: bool = False  # added to an open order (补充)
    repeated: bool = False  # this (channel, external id) was seen before


@dataclass(frozen=True)
class CommandResult:
    """A command contact (查询, 评价, 退订) recorded: the reply, and the order it concerned."""

    reply: str | None  # None: a repeat whose first answer kept no reply
    number: str | None = None
    repeated: bool = False


# Runs inside the command contact's transaction: (citizen id, now) -> (reply, change, order id).
CommandRun = Callable[[AsyncSession, int | None, datetime], Awaitable[tuple[str, Change | None, int | None]]]


class _Repeat(Exception):
    """Raised inside the transaction when a concurrent intake stored the contact first."""


OnCreated = tuple[Effect, "Callable[[Contact], bool] | None"]


@dataclass(frozen=True)
class _Job:
    """One contact on its way to a group write, with what `receive` decided for it."""

    contact: Contact
    now: datetime
    agent_id: int | None
    effects: list[Effect]


# What a group write answers each member: the fast way's row (and, when effects ran in
# the group's transaction, the result and change); the general way's result and change.
_Fast = tuple[FastResult, "IntakeResult | None", "Change | None"]
_Stored = tuple[IntakeResult, Change]


def default_title(text: str) -> str:
    line = " ".join(text.split())
    return line[:TITLE_CHARS] + ("…" if len(line) > TITLE_CHARS else "")


class Intake:
    def __init__(self, settings: Settings, engine: AsyncEngine, sessions: SessionFactory, clock: Clock,
                 orders: WorkOrderService, metrics: Metrics) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.clock = clock
        self.orders = orders
        self.metrics = metrics
        # Effects on new orders (auto-dispatch, the citizen's acknowledgement), each with an
        # optional cheap test of whether it can apply to a contact at all: when none can, a
        # new order needs no transaction of its own on PostgreSQL.
        self.on_created: list[OnCreated] = []
        self._tz = settings.tz
        # The reference codes a contact is checked against (settings are frozen): built once,
        # not for every contact.
        self._codes = ({x.code for x in settings.categories}, {x.code for x in settings.urgencies},
                       settings.subject_codes(), settings.area_codes())
        # The counters' children, looked up once: `labels()` takes a lock and builds a key.
        self._counted = {ch: (metrics.contacts.labels(ch.value), metrics.workorders_created.labels(ch.value))
                         for ch in Channel}
        self._fast: GroupCommit[_Job, _Fast] = GroupCommit(self._write_fast)
        # The general way may wait for an order's lock (a follow-up): a few groups at once
        # on PostgreSQL, so that one wait does not hold up every other contact.
        lanes = 4 if engine.dialect.name == "postgresql" else 1
        self._general: GroupCommit[_Job, _Stored] = GroupCommit(self._write_general, concurrency=lanes)

    # ------------------------------------------------------------ public
    def add_on_created(self, effect: Effect, when: Callable[[Contact], bool] | None = None) -> None:
        """`when` must be conservative: False only if the effect would surely do nothing."""
        self.on_created.append((effect, when))

    async def receive(self, contact: Contact, *, agent_id: int | None = None) -> IntakeResult:
        self._validate(contact)
        contacts_counter, created_counter = self._counted[contact.channel]
        contacts_counter.inc()
        job = _Job(contact, self.clock(), agent_id,
                   [e for e, when in self.on_created if when is None or when(contact)])
        try:
            stored = None
            if self.engine.dialect.name == "postgresql" and fits(contact):
                stored = await self._receive_fast(job)
            if stored is None:  # a repeat is caught by the contact's unique claim, and rolled back
                stored = await self._general.submit(job)
            result, change = stored
        except (_Repeat, IntegrityError) as exc:
            if isinstance(exc, IntegrityError) and not violates(exc, CONTACT_CLAIM):
                raise
            earlier = await self._earlier(contact)  # stored before, or by a concurrent twin
            if earlier is None:
                raise
            return earlier
        if change is not None:  # None: already announced
            await self.orders.committed(change)
        if result.created:
            created_counter.inc()
        return result

    async def record_command(self, contact: Contact, kind: str, run: CommandRun) -> CommandResult:
        """A contact that asks for something rather than reporting a matter (查询, 评价, 退订).

        It is claimed like any contact (`channel`, `external_id`), with no order; `run` does
        what it asks inside the same transaction, and the reply is kept on the row, so a
        vendor's retry of the same message gets the same reply and changes nothing twice.
        """
        self.metrics.contacts.labels(contact.channel.value).inc()
        now = self.clock()
        contact = replace(contact, raw={**contact.raw, "command": kind})
        try:
            async with self.sessions() as session, session.begin():
                citizen_id = await resolve_citizen(session, [contact.sender] if contact.sender else [], None, now)
                contact_id = await self._insert_contact(session, contact, citizen_id, None)
                reply, change, order_id = await run(session, citizen_id, now)
                await contacts.settle(session, contact_id, order_id, {**contact.raw, "reply": reply})
        except _Repeat:
            async with self.sessions() as session:
                raw = await contacts.raw_of(session, contact.channel.value, contact.external_id)
            return CommandResult(raw.get("reply"), repeated=True)
        if change is not None:
            await self.orders.committed(change)
        return CommandResult(reply, change.order.number if change else None)

    # ------------------------------------------------------------ steps
    def _local_day(self, now: datetime) -> date:
        return now.astimezone(self._tz).date()

    def _validate(self, c: Contact) -> None:
        categories, urgencies, subjects, areas = self._codes
        problems = []
        if not c.external_id or len(c.external_id) > 200:
            problems.append("external_id: 1–200 characters")
        if c.category and c.category not in categories:
            problems.append(f"category: unknown {c.category!r}")
        if c.urgency not in urgencies:
            problems.append(f"urgency: unknown {c.urgency!r}")
        if c.subject and c.subject not in subjects:
            problems.append(f"subject: unknown {c.subject!r}")
        if c.area and c.area not in areas:
            problems.append(f"area: unknown {c.area!r}")
        if c.received_at.tzinfo is None:
            problems.append("received_at: must carry a time zone")
        if problems:
            raise ValidationFailed("；".join(problems), code="invalid_contact")

    async def _earlier(self, c: Contact) -> IntakeResult | None:
        async with self.sessions() as session:
            row = await contacts.earlier(session, c.channel.value, c.external_id)
        if row is None:
            return None
        contact_id, citizen_id, order_id, number, status = row
        return IntakeResult(number, order_id, contact_id, citizen_id, status, repeated=True)

    async def _receive_fast(self, job: _Job) -> tuple[IntakeResult, Change | None] | None:
        """PostgreSQL, a plain new contact: one statement for its group. None: it continues
        an open order (the follow-up window), which the general way appends it to."""
        c = job.contact
        fast, result, change = await self._fast.submit(job)
        if fast.follow_up:
            return None
        if not fast.claimed:
            raise _Repeat()
        if result is not None:  # effects ran in the group's transaction
            return result, change
        if fast.identity_lost:
            async with self.sessions() as session, session.begin():
                fast = replace(fast, citizen_id=await self._rejoin_citizen(session, c, fast))
        status = Status.DRAFT if c.draft else Status.REGISTERED
        result, event = self._created(c, fast, status, job.now)
        assert fast.number is not None
        await self.orders.announce(NewOrderFacts(fast.number, status.value), event)
        return result, None

    async def _fast_rows(self, jobs: Sequence[_Job]) -> list[FastRow]:
        rows = []
        sequences: dict[date, str] = {}  # a group is mostly one day: its sequence looked up once
        for j in jobs:
            c, day = j.contact, self._local_day(j.now)
            if day not in sequences:
                sequences[day] = await ensure_day_sequence(self.engine, day)
            status = Status.DRAFT if c.draft else Status.REGISTERED
            values = self._order_values(c, [c.sender] if c.sender else [], status, j.now, j.agent_id)
            rows.append(FastRow(c, f"{day:%Y%m%d}", sequences[day], j.now, values, self._event_data(c)))
        return rows

    async def _write_fast(self, jobs: Sequence[_Job]) -> list[_Fast]:
        """A group of plain contacts, one statement: on its own (autocommit) when no creation
        effect applies to any of them, else in a transaction with the members' effects."""
        rows = await self._fast_rows(jobs)
        if not any(j.effects for j in jobs):  # nothing else to do in a transaction
            async with autocommit(self.engine).connect() as conn:
                return [(fast, None, None) for fast in await insert_new_orders(conn, rows)]
        out: list[_Fast] = []
        async with self.sessions() as session, session.begin():
            for job, row, written in zip(jobs, rows, await insert_new_orders(session, rows), strict=True):
                if not written.claimed:
                    out.append((written, None, None))
                    continue
                fast = written if not written.identity_lost else replace(
                    written, citizen_id=await self._rejoin_citizen(session, job.contact, written))
                result, change = await self._run_effects(session, job, row, fast)
                out.append((fast, result, change))
        return out

    async def _run_effects(self, session: AsyncSession, job: _Job, row: FastRow,
                           fast: FastResult) -> tuple[IntakeResult, Change]:
        status = Status(row.order_values["status"])
        result, event = self._created(job.contact, fast, status, job.now)
        # The row as just written, attached without reading it back, so effects that
        # change the order (e.g. auto-dispatch) update it as usual.
        order = WorkOrder(id=fast.order_id, number=fast.number, citizen_id=fast.citizen_id,
                          resume_status=None, pending_extension_days=None, rating=None, merged_into=None,
                          lead_department=None, sign_by=None, reply_by=None, dispatched_at=None,
                          replied_at=None, closed_at=None, assignments=[], **row.order_values)
        make_transient_to_detached(order)
        session.add(order)
        after = wo.OrderState(status=status, version=1)
        change = Change(session, order, after, after, event, job.now)
        for effect in job.effects:
            await effect(change)
        return result, change

    async def _write_general(self, jobs: Sequence[_Job]) -> list[_Stored | Exception]:
        """A group the general way: one transaction; with others in it, each member in a
        savepoint of its own, so that a repeat or a failure undoes that member alone."""
        out: list[_Stored | Exception] = []
        async with self.sessions() as session, session.begin():
            if len(jobs) == 1:
                j = jobs[0]
                return [await self._store(session, j.contact, j.now, j.agent_id, j.effects)]
            for j in jobs:
                try:
                    async with session.begin_nested():
                        out.append(await self._store(session, j.contact, j.now, j.agent_id, j.effects))
                except (_Repeat, IntegrityError, HotlineError) as exc:  # this member's own answer
                    out.append(exc)
                # Anything else (a deadlock between two groups, a lost connection, a bug in
                # an effect) fails the group, which is then retried member by member.
        return out

    def _created(self, c: Contact, fast: FastResult, status: Status,
                 now: datetime) -> tuple[IntakeResult, wo.Event]:
        assert fast.order_id is not None and fast.number is not None and fast.contact_id is not None
        event = wo.Event("created", self._actor(c), now, None, status,
                         {**self._event_data(c), "contact_id": fast.contact_id})
        return (IntakeResult(fast.number, fast.order_id, fast.contact_id, fast.citizen_id, status.value,
                             created=True), event)

    async def _rejoin_citizen(self, session: AsyncSession, c: Contact, fast: FastResult) -> int:
        """A concurrent intake linked this new sender to its own citizen first: join it."""
        assert c.sender is not None and fast.order_id is not None and fast.contact_id is not None
        return await contacts.rejoin_citizen(session, c.sender.kind, c.sender.value, orphan=fast.citizen_id,
                                             order_id=fast.order_id, contact_id=fast.contact_id)

    async def _store(self, session: AsyncSession, c: Contact, now: datetime, agent_id: int | None,
                     effects: list[Effect]) -> tuple[IntakeResult, Change]:
        """The general way, one statement per row (SQLite; attachments, follow-ups ...)."""
        identities = [i for i in (c.sender, *c.other_identities) if i is not None]
        citizen_id = await resolve_citizen(session, identities, c.sender_name, now)
        target = await self._open_order_for(session, c, citizen_id)
        if target is not None:
            contact_id = await self._insert_contact(session, c, citizen_id, target.id)
            await self._attach(session, c.attachments, target.id, contact_id, now)
            change = await self.orders.apply_loaded(
                session, target, wo.AppendContact(self._actor(c), contact_id, c.channel.value), now)
            return IntakeResult(target.number, target.id, contact_id, citizen_id, target.status,
                                appended=True), change

        number = await allocate_number(self.engine, self._local_day(now), session)
        status = Status.DRAFT if c.draft else Status.REGISTERED
        order = WorkOrder(number=number, citizen_id=citizen_id, assignments=[],
                          **self._order_values(c, identities, status, now, agent_id))
        session.add(order)
        await session.flush()
        contact_id = await self._insert_contact(session, c, citizen_id, order.id)
        await self._attach(session, c.attachments, order.id, contact_id, now)
        event = wo.Event("created", self._actor(c), now, None, status,
                         {**self._event_data(c), "contact_id": contact_id})
        session.add(event_row(order.id, event, 1))
        after = wo.OrderState(status=status, version=1)
        change = Change(session, order, after, after, event, now)
        for effect in effects:
            await effect(change)
        return IntakeResult(number, order.id, contact_id, citizen_id, status.value, created=True), change

    @staticmethod
    def _actor(c: Contact) -> wo.Actor:
        return wo.Actor(ActorKind.CITIZEN, c.sender.value if c.sender else None, c.sender_name)

    @staticmethod
    def _event_data(c: Contact) -> dict[str, object]:
        return {"channel": c.channel.value, **({"legacy_line": c.legacy_line} if c.legacy_line else {})}

    def _order_values(self, c: Contact, identities: list[Identity], status: Status, now: datetime,
                      agent_id: int | None) -> dict[str, object]:
        legacy = self.settings.legacy_line(c.legacy_line) if c.legacy_line else None
        return dict(
            status=status.value, version=1, channel=c.channel.value,
            title=(c.title or default_title(c.text))[:200], description=c.text,
            category=c.category or (legacy.category if legacy else None), subject=c.subject, area=c.area,
            address=c.address, latitude=c.latitude, longitude=c.longitude, urgency=c.urgency,
            confidential=c.confidential, legacy_line=c.legacy_line, contact_name=c.sender_name,
            contact_phone=next((i.value for i in identities if i.kind == "phone"), None),
            agent_id=agent_id, call_id=c.call_id, created_at=now, updated_at=now,
            registered_at=None if c.draft else now, reopen_count=0)

    async def _open_order_for(self, session: AsyncSession, c: Contact, citizen_id: int | None) -> WorkOrder | None:
        if citizen_id is None:
            return None
        if c.follow_up or c.follow_up_of:
            return await contacts.open_order_of(session, citizen_id, c.follow_up_of)
        if c.follow_up_since is not None and c.sender is not None:
            return await contacts.recent_open_order(session, citizen_id, c.channel.value, c.sender.value,
                                                    c.follow_up_since)
        return None

    async def _insert_contact(self, session: AsyncSession, c: Contact, citizen_id: int | None,
                              order_id: int | None) -> int:
        contact_id = await contacts.claim(session, c, citizen_id, order_id)
        if contact_id is None:
            raise _Repeat()
        return contact_id

    async def _attach(self, session: AsyncSession, files: Sequence[AttachmentIn], order_id: int,
                      contact_id: int, now: datetime) -> None:
        for f in files:
            session.add(Attachment(work_order_id=order_id, contact_id=contact_id, kind=f.kind,
                                   filename=f.filename, content_type=f.content_type, size=f.size,
                                   sha256=f.sha256, location=f.location, created_at=now))

