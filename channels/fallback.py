"""WeChat notices after the 48-hour window (客服消息 48 小时限制).

WeChat accepts customer-service messages only within 48 hours of the citizen's last
message; a notice after that (办结, 请评价 days later) is refused with errcode 45015.
The `wechat` outbox sender is then this chain: the customer-service message; else the
account's template message (`channels.wechat.template`); else an SMS to the order's phone
number, when one is known — a new outbox message of kind `sms`, written once (its delivery
id is the WeChat message's plus ":sms"), so a retried WeChat message never texts twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from channels import queries
from channels.wechat import WindowClosed
from hotline.outbox import DeliveryFailed, message_values
from hotline.storage.models import OutboxMessage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from channels.config import WechatTemplate
    from channels.wechat import WechatChannel
    from hotline.clock import Clock
    from hotline.storage.engine import SessionFactory

log = logging.getLogger(__name__)


class WechatNotices:
    """The outbox sender of kind `wechat`."""

    def __init__(self, wechat: WechatChannel, template: WechatTemplate, *, sessions: SessionFactory, clock: Clock,
                 sms: bool, nudge: Callable[[], Awaitable[None]]) -> None:
        self.wechat, self.template = wechat, template
        self.sessions, self.clock = sessions, clock
        self.sms = sms  # Twilio is configured
        self.nudge = nudge

    async def send(self, message: OutboxMessage) -> None:
        try:
            await self.wechat.send(message)
            return
        except WindowClosed as exc:
            closed = str(exc)
        number, text = str(message.payload.get("number", "")), str(message.payload.get("text", ""))
        if self.template.id:
            data = {self.template.number_field: {"value": number}, self.template.text_field: {"value": text}}
            try:
                await self.wechat.send_template(message.target, self.template.id, data)
                log.info("wechat: notice %s sent as a template message (%s)", message.delivery_id, closed)
                return
            except DeliveryFailed as exc:
                if exc.retryable:  # WeChat busy: try the whole chain again later
                    raise
                closed = f"{closed}; {exc}"
        phone = message.payload.get("fallback_phone")
        if not (self.sms and isinstance(phone, str) and phone):
            raise DeliveryFailed(f"{closed}; no template message and no phone number to text", retryable=False)
        await self._hand_to_sms(message, phone)
        log.info("wechat: notice %s handed to SMS (%s)", message.delivery_id, closed)

    async def _hand_to_sms(self, message: OutboxMessage, phone: str) -> None:
        delivery_id = f"{message.delivery_id}:sms"[:64]
        async with self.sessions() as session, session.begin():
            if await queries.outbox_exists(session, delivery_id):
                return  # an earlier attempt of this message handed it over already
            values = message_values(kind="sms", target=phone, event=message.event,
                                    payload={"number": message.payload.get("number"),
                                             "text": message.payload.get("text", ""), "instead_of": "wechat"},
                                    now=self.clock(), work_order_id=message.work_order_id)
            session.add(OutboxMessage(**{**values, "delivery_id": delivery_id}))
        await self.nudge()
