"""The conversation behind SMS and WeChat: one message in, one answer out.

A message is a new matter, a follow-up to the open one (补充, or simply written again
within the follow-up window), a status query (查询), a rating (评价) or an opt-out
(退订). Whatever it is, intake stores it before the answer is given: new matters and
follow-ups as contacts of an order, the others as command contacts
(`Intake.record_command`) that keep the answer, so a vendor's retry of the same message
id gets the same answer and changes nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from channels import queries, texts
from hotline.contact import AttachmentIn, Contact, Identity
from hotline.domain import workorder as wo
from hotline.domain.vocabulary import ActorKind, Channel, Status
from hotline.storage.orders import load_for_update

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.keywords import Intent
    from hotline.intake import CommandRun, Intake
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.workorders import Change, WorkOrderService

log = logging.getLogger(__name__)
RATEABLE = (Status.REPLIED.value, Status.RESOLVED_DIRECTLY.value, Status.FOLLOW_UP.value)


@dataclass(frozen=True)
class Inbound:
    """One written message, already verified and parsed by its channel."""

    channel: Channel
    external_id: str
    sender: Identity
    received_at: datetime
    text: str = ""
    attachments: tuple[AttachmentIn, ...] = ()
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    text: str
    number: str | None = None
    created: bool = False
    repeated: bool = False


class Inbox:
    def __init__(self, settings: Settings, follow_up_window: timedelta, *, sessions: SessionFactory,
                 intake: Intake, orders: WorkOrderService) -> None:
        self.settings = settings
        self.window = follow_up_window
        self.sessions = sessions
        self._intake, self.orders = intake, orders

    @property
    def _name(self) -> str:
        return self.settings.hotline.name

    async def handle(self, msg: Inbound, intent: Intent) -> Answer:
        if intent.kind == "query":
            return await self._command(msg, "query", lambda s, c, now: self._query(s, c, intent.number))
        if intent.kind == "rate":
            assert intent.level is not None
            return await self._command(msg, "rate", lambda s, c, now: self._rate(s, c, now, intent, msg))
        return await self.intake(msg, intent.text if intent.kind == "follow_up" else msg.text,
                                 follow_up=intent.kind == "follow_up")

    async def intake(self, msg: Inbound, text: str, *, follow_up: bool = False) -> Answer:
        # Written again within the window: intake appends it to the open order, checked in
        # the same statement that would store a new one (one round trip per new contact).
        since = msg.received_at - self.window if not follow_up and self.window > timedelta(0) else None
        contact = Contact(channel=msg.channel, external_id=msg.external_id, received_at=msg.received_at,
                          text=text, sender=msg.sender, attachments=msg.attachments, address=msg.address,
                          latitude=msg.latitude, longitude=msg.longitude, follow_up=follow_up,
                          follow_up_since=since, raw=msg.raw)
        result = await self._intake.receive(contact)
        if result.appended:
            return Answer(texts.appended(self._name, result.number), result.number)
        return Answer(texts.accepted(self._name, result.number), result.number, created=result.created,
                      repeated=result.repeated)

    # ------------------------------------------------------------ commands
    async def command(self, msg: Inbound, kind: str, run: CommandRun) -> Answer:
        return await self._command(msg, kind, run)

    async def _command(self, msg: Inbound, kind: str, run: CommandRun) -> Answer:
        contact = Contact(channel=msg.channel, external_id=msg.external_id, received_at=msg.received_at,
                          text=msg.text, sender=msg.sender, raw=msg.raw)
        result = await self._intake.record_command(contact, kind, run)
        if result.repeated:  # the same message again: the same answer
            return Answer(result.reply or texts.no_orders(), repeated=True)
        return Answer(result.reply or "", result.number)

    async def _query(self, session: AsyncSession, citizen_id: int | None,
                     number: str | None) -> tuple[str, Change | None, int | None]:
        if citizen_id is None:
            return texts.no_orders(), None, None
        orders = await queries.citizen_orders(session, citizen_id, number=number)
        if not orders:
            return texts.no_orders(), None, None
        names = {d.code: d.name for d in self.settings.departments}
        lines = [texts.status_line(o.number, o.status, names.get(o.lead_department or "")) for o in orders]
        return "\n".join(lines), None, orders[0].id if number else None

    async def _rate(self, session: AsyncSession, citizen_id: int | None, now: datetime, intent: Intent,
                    msg: Inbound) -> tuple[str, Change | None, int | None]:
        if citizen_id is None:
            return texts.nothing_to_rate(), None, None
        number = await queries.order_to_rate(session, citizen_id, RATEABLE, number=intent.number)
        if number is None:
            return texts.nothing_to_rate(), None, None
        order = await load_for_update(session, number)
        assert intent.level is not None
        actor = wo.Actor(ActorKind.CITIZEN, msg.sender.value, None)
        change = await self.orders.apply_loaded(session, order, wo.Rate(actor, intent.level, ""), now)
        return texts.rated(number, intent.level), change, order.id
