"""Work-order use cases: load, apply the pure state machine, persist, run effects.

The state change, its audit event and every side effect it causes (outbox messages,
timers) are written in one transaction. Effects are small functions that other modules
(dispatch, channels) register with the composition root; they run inside that
transaction and never do network I/O themselves.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.details import apply_details
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import AssignmentRole, AssignmentStatus, Status
from hotline.errors import TransitionRejected
from hotline.storage.models import Assignment, OrderEvent, WorkOrder
from hotline.storage.orders import load_for_update

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.storage.engine import SessionFactory

log = logging.getLogger(__name__)


Builder = Callable[[AsyncSession, WorkOrder, wo.OrderState], Awaitable[wo.Command]]


@dataclass
class Change:
    """What one accepted command did, handed to the effects and the live bus."""

    session: AsyncSession
    order: WorkOrder
    before: wo.OrderState
    after: wo.OrderState
    event: wo.Event
    now: datetime
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Commands an effect asks for next (a dissatisfied rating → reopen → re-dispatch): applied
    # in the same transaction once every effect of this change has run, each with its own effects.
    then: list[Builder] = field(default_factory=list)


Effect = Callable[[Change], Awaitable[None]]
class OrderFacts(Protocol):
    """What an announcement needs of an order (a stored row, or the facts of one just written)."""

    @property
    def number(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def lead_department(self) -> str | None: ...
    @property
    def version(self) -> int: ...


@dataclass(frozen=True)
class NewOrderFacts:
    number: str
    status: str
    lead_department: str | None = None
    version: int = 1


Announcement = Callable[[OrderFacts, wo.Event], Awaitable[None]]  # after the commit: live events, metrics


def state_of(order: WorkOrder) -> wo.OrderState:
    """The pure state of a loaded order (assignments must be loaded)."""
    return wo.OrderState(
        status=Status(order.status),
        assignments=tuple(
            wo.AssignmentState(a.department_code, AssignmentRole(a.role), AssignmentStatus(a.status),
                               a.parent_department, a.sign_by, a.reply_by, a.return_by, a.extended_days)
            for a in order.assignments),
        resume_status=Status(order.resume_status) if order.resume_status else None,
        pending_extension_days=order.pending_extension_days,
        rating=order.rating,
        reopen_count=order.reopen_count,
        dissatisfied=bool(order.dissatisfied),
        merged_into=order.merged_into,
        version=order.version,
    )


_STAMPS = {"registered": "registered_at", "dispatched": "dispatched_at", "replied": "replied_at",
           "resolved_directly": "replied_at", "closed": "closed_at"}


def _write_back(session: AsyncSession, order: WorkOrder, new: wo.OrderState, event: wo.Event) -> None:
    order.status = new.status.value
    order.version = new.version
    order.resume_status = new.resume_status.value if new.resume_status else None
    order.pending_extension_days = new.pending_extension_days
    order.rating = new.rating
    order.reopen_count = new.reopen_count
    order.dissatisfied = new.dissatisfied
    order.merged_into = new.merged_into
    order.updated_at = event.at
    if event.kind == "updated":
        apply_details(order, event.data["changes"])
    stamp = _STAMPS.get(event.kind)
    if stamp and (event.kind != "replied" or event.to_status is Status.REPLIED):
        setattr(order, stamp, event.at)

    rows = list(order.assignments)
    for i, a in enumerate(new.assignments):
        if i < len(rows):
            row = rows[i]
        else:
            parent = next((r for r in reversed(rows) if r.department_code == a.parent
                           and r.status in (AssignmentStatus.SIGNED, AssignmentStatus.DISPATCHED)), None)
            row = Assignment(work_order_id=order.id, department_code=a.department, role=a.role.value,
                             parent_department=a.parent, parent_id=parent.id if parent else None,
                             dispatched_at=event.at)
            session.add(row)
            order.assignments.append(row)
            rows.append(row)
        if row.status != a.status.value and row.department_code == event.data.get("department"):
            if a.status is AssignmentStatus.SIGNED and event.kind == "signed":
                row.signed_at = event.at
            elif a.status is AssignmentStatus.REPLIED:
                row.replied_at = event.at
                row.result = event.data.get("result")
            elif a.status is AssignmentStatus.RETURNED:
                row.return_reason = event.data.get("reason")
        row.status = a.status.value
        row.sign_by, row.reply_by, row.return_by = a.sign_by, a.reply_by, a.return_by
        row.extended_days = a.extended_days

    lead = new.lead()
    order.lead_department = lead.department if lead else None
    active_lead = lead if lead is not None and lead.active else None
    order.sign_by = active_lead.sign_by if active_lead and active_lead.status is AssignmentStatus.DISPATCHED else None
    order.reply_by = active_lead.reply_by if active_lead else None


def event_row(order_id: int, event: wo.Event, seq: int) -> OrderEvent:
    return OrderEvent(work_order_id=order_id, seq=seq, kind=event.kind,
                      from_status=event.from_status.value if event.from_status else None,
                      to_status=event.to_status.value, actor_kind=event.actor.kind.value,
                      actor_id=event.actor.id, actor_name=event.actor.name, at=event.at,
                      data=_jsonable(dict(event.data)))


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


class WorkOrderService:
    """Applies commands to stored orders. Built once by the composition root."""

    def __init__(self, sessions: SessionFactory, clock: Clock, effects: Sequence[Effect] = (),
                 on_committed: Sequence[Announcement] = ()) -> None:
        self.sessions = sessions
        self.clock = clock
        self.effects = list(effects)
        self.on_committed = list(on_committed)  # metrics, live events: after the commit only

    async def apply_loaded(self, session: AsyncSession, order: WorkOrder, command: wo.Command,
                           now: datetime, *, expected_version: int | None = None) -> Change:
        """Transition an order already loaded (and locked) in `session`; no commit."""
        if expected_version is not None and expected_version != order.version:
            raise TransitionRejected(f"工单 {order.number} 已被他人修改，请刷新后重试",
                                     code="stale_version", status=409)
        before = state_of(order)
        after, event = wo.transition(before, command, now)
        _write_back(session, order, after, event)
        session.add(event_row(order.id, event, after.version))
        change = Change(session, order, before, after, event, now)
        for effect in self.effects:
            await effect(change)
        for build in change.then:
            follow = await self.apply_loaded(session, order, await build(session, order, state_of(order)), now)
            change.after_commit.append(functools.partial(self.committed, follow))
        return change

    async def apply(self, session: AsyncSession, number: str, command: wo.Command, now: datetime,
                    *, expected_version: int | None = None) -> Change:
        order = await load_for_update(session, number)
        return await self.apply_loaded(session, order, command, now, expected_version=expected_version)

    async def execute(self, number: str, build: Builder, *, expected_version: int | None = None,
                      department: str | None = None) -> Change:
        """One use case in its own transaction: lock the order, build the command from it
        (deadlines, directory checks), apply, commit, then announce."""
        (change,) = await self.execute_steps(number, [build], expected_version=expected_version,
                                             department=department)
        return change

    async def execute_steps(self, number: str, builds: Sequence[Builder], *, expected_version: int | None = None,
                            department: str | None = None) -> list[Change]:
        """Several commands on one order in one transaction, each built from the state the one
        before left (e.g. accept a return, then dispatch elsewhere): all of them or none.
        `expected_version` guards the first."""
        now = self.clock()
        changes: list[Change] = []
        async with self.sessions() as session, session.begin():
            order = await load_for_update(session, number, department=department)
            for build in builds:
                command = await build(session, order, state_of(order))
                changes.append(await self.apply_loaded(session, order, command, now,
                                                       expected_version=None if changes else expected_version))
        for change in changes:
            await self.committed(change)
        return changes

    async def committed(self, change: Change) -> None:
        """Call after the commit: tell the world (live bus, metrics), never before."""
        await self.announce(change.order, change.event)
        for hook in change.after_commit:
            try:
                await hook()
            except Exception:  # a dashboard hiccup must not fail a committed change
                log.exception("post-commit hook failed for order %s", change.order.number)

    async def announce(self, order: OrderFacts, event: wo.Event) -> None:
        for hook in self.on_committed:
            try:
                await hook(order, event)
            except Exception:
                log.exception("post-commit hook failed for order %s", order.number)


def with_actor(command: wo.Command, actor: wo.Actor) -> wo.Command:
    return replace(command, actor=actor)
