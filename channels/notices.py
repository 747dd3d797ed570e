"""Citizen notices (受理、派单、办结、请评价) on the channel the citizen used.

Effects: they run inside the transaction of the change and only write outbox rows
(`kind` "sms" or "wechat"); the senders deliver them later, at least once. SMS and
WeChat contacts were already answered with the number inline, so "accepted" goes only
to the other channels (phone, portal, app, fax) when a phone number is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels import queries, texts
from channels.identity import WECHAT, normalise_phone
from hotline.domain.vocabulary import Channel, Status
from hotline.outbox import enqueue

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from hotline.contact import Contact
    from hotline.settings import Settings
    from hotline.storage.models import WorkOrder
    from hotline.workorders import Change

INLINE_ACK = {Channel.SMS.value, Channel.WECHAT.value}


@dataclass(frozen=True)
class Route:
    kind: str  # outbox kind: "sms" | "wechat"
    target: str  # phone number (national form) or openid
    fallback_phone: str | None = None  # WeChat: texted when the 48-hour window has closed


class Notices:
    def __init__(self, settings: Settings, nudge: Callable[[], Awaitable[None]], *, sms: bool, wechat: bool,
                 rate_link: Callable[[str, int], str] | None = None) -> None:
        self.settings = settings
        self.rate_link = rate_link  # (number, round) → the portal's signed rating page, when the public URL is known
        self.nudge = nudge  # wakes the outbox's senders once the change is committed
        self.sms = sms
        self.wechat = wechat

    def may_acknowledge(self, contact: Contact) -> bool:
        """Whether `on_created` can send anything for this contact (cheap, conservative)."""
        if contact.draft or contact.channel.value in INLINE_ACK:
            return False
        return self.sms or self.wechat

    async def on_created(self, change: Change) -> None:
        o = change.order
        if o.status != Status.DRAFT.value and o.channel not in INLINE_ACK:
            await self._notify(change, "accepted", texts.accepted(self._name, o.number))

    async def on_change(self, change: Change) -> None:
        o, ev = change.order, change.event
        if ev.kind == "registered" and o.channel not in INLINE_ACK:  # a call's draft, now 受理
            await self._notify(change, "accepted", texts.accepted(self._name, o.number))
        elif ev.kind == "dispatched":
            dept = self.settings.department(str(ev.data.get("lead")))
            await self._notify(change, "dispatched",
                               texts.dispatched(self._name, o.number, dept.name if dept else "承办单位"))
        elif (ev.kind == "replied" and ev.to_status is Status.REPLIED) or ev.kind == "resolved_directly":
            result = str(ev.data.get("result") or ev.data.get("answer") or "")
            await self._notify(change, "replied", texts.replied(self._name, o.number, result))
            link = self.rate_link(o.number, o.reopen_count) if self.rate_link else None
            await self._notify(change, "rate_request", texts.rate_request(self._name, o.number, link))
        elif ev.kind == "reopened":  # what happens next: back to a department, or a supervisor decides
            await self._notify(change, "reopened", texts.reopened(self._name, o.number))

    @property
    def _name(self) -> str:
        return self.settings.hotline.name

    async def route(self, change: Change) -> Route | None:
        o: WorkOrder = change.order
        phone = normalise_phone(o.contact_phone)
        if not (self.sms and phone and not phone.startswith("0")):  # a landline (a fax line) takes no SMS
            phone = None
        if o.channel == Channel.WECHAT.value and self.wechat and o.citizen_id is not None:
            openid = await queries.latest_identity(change.session, o.citizen_id, WECHAT)
            if openid:
                return Route("wechat", openid, phone)
        return Route("sms", phone) if phone else None

    async def _notify(self, change: Change, event: str, text: str) -> None:
        route = await self.route(change)
        if route is None:
            return
        o = change.order
        payload = {"number": o.number, "text": text}
        if route.fallback_phone:
            payload["fallback_phone"] = route.fallback_phone
        enqueue(change.session, kind=route.kind, target=route.target, event=event, payload=payload,
                now=change.now, work_order_id=o.id)
        # Deliver soon after the commit (here, or by the rq workers), not at the next poll.
        change.after_commit.append(self.nudge)
