"""SMS through Twilio (短信): inbound webhook, status callbacks, outbound notices.

Inbound, as Twilio posts it (form-encoded, signed with the account's auth token)::

    POST /channels/sms/twilio
    X-Twilio-Signature: base64(HMAC-SHA1(auth_token, URL + sorted params))
    MessageSid=SM...&From=%2B8613800138000&To=%2B8612345...&Body=...&NumMedia=1
    &MediaUrl0=https://api.twilio.com/...&MediaContentType0=image/jpeg

and the answer, after the contact is committed::

    <?xml version="1.0" encoding="UTF-8"?><Response><Message>…工单号 20261126000001…</Message></Response>

A wrong signature answers 403 and stores nothing; the same MessageSid again gets the
same number. Outbound notices leave through the outbox via the Twilio REST client
(`HOTLINE_TWILIO_API_BASE` points it elsewhere, e.g. at a local fake in tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from channels import files, queries, texts
from channels.errors import BadPayload, ChannelAuthError, ChannelNotConfigured
from channels.identity import normalise_phone, phone_identity, to_e164
from channels.inbox import Answer, Inbound, Inbox
from channels.keywords import classify
from channels.web_util import clean_form, external_url, read_form
from hotline.channel import handler as channel_handler
from hotline.domain.vocabulary import Channel
from hotline.outbox import DeliveryFailed
from hotline.web.boundary import xml_safe
from hotline.web.context import HOTLINE

if TYPE_CHECKING:
    from datetime import datetime

    from multidict import MultiDict
    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.config import SmsConfig
    from hotline.clock import Clock
    from hotline.ports import Hotline
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_FORM = 64 * 1024
PATH = "/channels/sms/twilio"
STATUS_PATH = "/channels/sms/twilio/status"
# Twilio REST errors that will never succeed on retry (unsubscribed, invalid number ...).
UNSUBSCRIBED = 21610


@dataclass(frozen=True)
class SmsIn:
    """One verified inbound SMS."""

    message: Inbound
    opt_out_type: str | None = None  # Twilio's Advanced Opt-Out verdict (STOP/START), when it gives one


class SmsChannel:
    """The SMS channel port (`hotline.channel.NotifyingChannel`): verify → (intake) →
    acknowledge with TwiML; and `send` for later notices."""

    def __init__(self, cfg: SmsConfig, settings: Settings, *, sessions: SessionFactory, clock: Clock, inbox: Inbox,
                 http: aiohttp.ClientSession) -> None:
        self.cfg = cfg
        self.settings = settings
        self.sessions, self.clock, self.inbox = sessions, clock, inbox
        self._http = http
        tw = settings.twilio
        self.validator = RequestValidator(tw.auth_token) if tw.auth_token else None
        self._twilio: Client | None = None

    @property
    def can_send(self) -> bool:
        tw = self.settings.twilio
        return bool(tw.account_sid and tw.auth_token and tw.from_number)

    # ------------------------------------------------------------ inbound
    async def verify(self, request: web.Request) -> SmsIn:
        form = await self._signed_form(request)
        return SmsIn(self.parse(form), form.get("OptOutType"))

    async def _signed_form(self, request: web.Request) -> MultiDict[str]:
        if self.validator is None:
            raise ChannelNotConfigured("短信渠道未配置（HOTLINE_TWILIO_AUTH_TOKEN）")
        form = await read_form(request, MAX_FORM, signed=True)
        signature = request.headers.get("X-Twilio-Signature", "")
        url = external_url(request, self.settings.http.public_url)
        if not signature or not self.validator.validate(url, form, signature):
            log.warning("sms: bad X-Twilio-Signature from %s for %s", request.remote, url)
            raise ChannelAuthError("X-Twilio-Signature 校验失败")
        # Cleaned only now: Twilio signed the bytes as they were. A stray NUL is dropped, not
        # refused (Twilio does not retry a refusal: the citizen's SMS would be lost).
        return clean_form(form)

    def parse(self, form: MultiDict[str]) -> Inbound:
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        sender = phone_identity(form.get("From"))
        if not sid or len(sid) > 64 or sender is None:
            raise BadPayload("缺少 MessageSid 或 From")
        body = (form.get("Body") or "")[: self.cfg.max_body_chars]
        try:
            n_media = min(int(form.get("NumMedia") or 0), self.cfg.max_media)
        except ValueError:
            raise BadPayload("NumMedia 不是数字") from None
        media = []
        for i in range(n_media):
            url = form.get(f"MediaUrl{i}")
            if url and url.startswith(("https://", "http://")):
                ctype = form.get(f"MediaContentType{i}") or "application/octet-stream"
                media.append(files.remote(url, kind="photo" if ctype.startswith("image/") else "document",
                                          content_type=ctype[:100], filename=f"mms-{sid}-{i}"))
        raw = {k: form.get(k) for k in ("MessageSid", "From", "To", "NumMedia", "OptOutType") if form.get(k)}
        return Inbound(Channel.SMS, sid, sender, self.clock(), body, tuple(media), raw=raw)

    async def receive(self, sms: SmsIn) -> Answer:
        msg = sms.message
        intent = classify(msg.text)
        kind = (sms.opt_out_type or "").upper()
        if kind == "STOP" or (not kind and intent.kind == "opt_out"):
            return await self.inbox.command(msg, "opt_out", lambda s, c, now: self._opt(s, msg, now, True))
        if kind == "START" or (not kind and intent.kind == "opt_in"):
            return await self.inbox.command(msg, "opt_in", lambda s, c, now: self._opt(s, msg, now, False))
        if not msg.text.strip() and not msg.attachments:
            raise BadPayload("短信内容为空")
        return await self.inbox.handle(msg, intent)

    async def _opt(self, session: AsyncSession, msg: Inbound, now: datetime, out: bool
                   ) -> tuple[str, None, None]:
        phone = msg.sender.value
        if out:
            await queries.opt_out(session, phone, msg.text.strip()[:32] or "STOP", now)
            return texts.opted_out(self.settings.hotline.name), None, None
        await queries.opt_in(session, phone)
        return texts.opted_in(self.settings.hotline.name), None, None

    def acknowledge(self, request: web.Request, sms: SmsIn, answer: Answer) -> web.Response:
        twiml = MessagingResponse()
        twiml.message(xml_safe(answer.text))
        return web.Response(text=str(twiml), content_type="text/xml", charset="utf-8")

    async def status_callback(self, request: web.Request) -> None:
        """Twilio telling what became of a message we sent (signed like an inbound one)."""
        form = await self._signed_form(request)
        sid, status = form.get("MessageSid") or "", (form.get("MessageStatus") or form.get("SmsStatus") or "")
        if not sid or not status:
            raise BadPayload("缺少 MessageSid 或 MessageStatus")
        async with self.sessions() as session, session.begin():
            ours = await queries.sms_status(session, sid, status, form.get("ErrorCode") or None, self.clock())
        if not ours:
            log.info("sms: status %s for unknown message %s", status, sid)
        elif status in ("failed", "undelivered"):
            log.warning("sms: message %s %s (error %s)", sid, status, form.get("ErrorCode"))

    # ------------------------------------------------------------ outbound (outbox sender)
    def _client(self) -> Client:
        if self._twilio is None:
            tw = self.settings.twilio
            http_client = AsyncTwilioHttpClient(pool_connections=False, timeout=15)
            http_client.session = self._http  # the root's HTTP client, closed by the root
            self._twilio = Client(tw.account_sid, tw.auth_token, http_client=http_client)
            if tw.api_base:
                self._twilio.api.base_url = tw.api_base.rstrip("/")
        return self._twilio

    async def send(self, message: OutboxMessage) -> None:
        if not self.can_send:
            raise DeliveryFailed("Twilio is not configured (HOTLINE_TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM)",
                                 retry_after=600)
        phone = normalise_phone(message.target) or message.target
        now = self.clock()
        async with self.sessions() as session:
            state = await queries.send_state(session, message.delivery_id, phone)
        if state.handed_over:
            return  # handed to Twilio on an earlier attempt: do not text twice
        if state.opted_out:
            await self._record(message, phone, None, "skipped_opt_out", now)
            return
        public = self.settings.http.public_url
        tw = self.settings.twilio
        try:
            sent = await self._client().messages.create_async(
                to=to_e164(phone), from_=tw.from_number, body=str(message.payload.get("text", "")),
                status_callback=public.rstrip("/") + STATUS_PATH if public else None)
        except TwilioRestException as exc:
            if exc.code == UNSUBSCRIBED:
                async with self.sessions() as session, session.begin():
                    await queries.opt_out(session, phone, "twilio:21610", now)
            retryable = exc.status == 429 or exc.status >= 500
            raise DeliveryFailed(f"Twilio {exc.status} (code {exc.code}): {exc.msg}", retryable=retryable) from None
        except (TimeoutError, aiohttp.ClientError, TwilioException) as exc:
            raise DeliveryFailed(f"Twilio unreachable: {type(exc).__name__}: {exc}") from None
        await self._record(message, phone, sent.sid, sent.status or "queued", now)

    async def _record(self, message: OutboxMessage, phone: str, sid: str | None, status: str, now: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await queries.record_sms(session, delivery_id=message.delivery_id, sid=sid, phone=phone,
                                     status=str(status), now=now)


def routes(channel: SmsChannel) -> web.RouteTableDef:
    table = web.RouteTableDef()

    table.post(PATH)(channel_handler(channel))

    @table.post(STATUS_PATH)
    async def status(request: web.Request) -> web.Response:
        await channel.status_callback(request)
        return web.Response(status=204)

    del status
    return table


def install_routes(h: Hotline, channel: SmsChannel) -> None:
    def add(app: web.Application) -> None:
        assert app[HOTLINE] is h
        app.router.add_routes(routes(channel))
    h.routes.append(add)
