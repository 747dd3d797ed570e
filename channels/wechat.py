"""The WeChat official account (微信公众号): server check, messages, notices.

WeChat's server posts XML, plain or in safe mode (AES, ``encrypt_type=aes``)::

    POST /channels/wechat?signature=…&timestamp=…&nonce=…&openid=o6_b…&encrypt_type=aes&msg_signature=…
    <xml><ToUserName><![CDATA[gh_…]]></ToUserName><Encrypt><![CDATA[…]]></Encrypt></xml>

which decrypts to a message such as::

    <xml><ToUserName><![CDATA[gh_…]]></ToUserName><FromUserName><![CDATA[o6_b…]]></FromUserName>
    <CreateTime>1795490400</CreateTime><MsgType><![CDATA[text]]></MsgType>
    <Content><![CDATA[小区门口垃圾三天没人清运]]></Content><MsgId>24518012345678901</MsgId></xml>

and expects a passive reply within 5 s, encrypted when the request was. WeChat retries a
message three times: the `MsgId` makes the retries idempotent.

The signature covers only `timestamp` and `nonce`, which any proxy log keeps, so a nonce
is good for one body (`channels.replay`: a retry of the same body passes, another body is a
replay), and once an AES key is set only safe-mode (encrypted) bodies are accepted, unless
`channels.wechat.plain_mode` says the account is still in 明文/兼容 mode. Later notices go out as
customer-service messages through the (wechatpy) API client, whose access token is
cached — in Redis when there is one, so every worker shares it — and refreshed.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException, WeChatClientException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels import files, texts
from channels.errors import BadPayload, ChannelAuthError, ChannelNotConfigured
from channels.identity import WECHAT
from channels.inbox import Answer, Inbound, Inbox
from channels.keywords import Intent, classify
from channels.replay import NonceBook
from channels.web_util import read_body
from hotline.channel import handler as channel_handler
from hotline.contact import Identity
from hotline.domain.vocabulary import Channel
from hotline.errors import UnsupportedMedia
from hotline.outbox import DeliveryFailed
from hotline.web.boundary import xml_safe

if TYPE_CHECKING:
    from redis import Redis as SyncRedis
    from redis.asyncio import Redis

    from channels.config import WechatConfig
    from hotline.clock import Clock
    from hotline.ports import Hotline
    from hotline.settings import Settings
    from hotline.storage.models import OutboxMessage

log = logging.getLogger(__name__)
PATH = "/channels/wechat"
MAX_CLOCK_SKEW = 300  # seconds; an old signed request replayed later is refused
XML_TYPES = {"text/xml", "application/xml", ""}
# Errors a retry cannot fix: outside the 48-hour customer-service window, unfollowed, bad openid.
PERMANENT = {40003, 43004, 45015, 45047, 48001}
# The customer-service window is closed (45015: the citizen wrote more than 48 hours ago;
# 45047: too many messages since): a template message or an SMS may still reach them.
WINDOW_CLOSED = {45015, 45047}


class WindowClosed(DeliveryFailed):
    """A customer-service message WeChat refuses because its 48-hour window has closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)
QUERY_KEYS = {"QUERY", "查询"}


def _xml_guard(body: bytes) -> None:
    """Refuse DTDs, entities (XML bombs) and malformed XML before any other parser sees it."""
    try:
        safe_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadPayload("XML 中不允许 DTD 或实体声明") from None
    except Exception as exc:  # ParseError and friends: whatever the body is, it is not our XML
        raise BadPayload(f"XML 无法解析：{type(exc).__name__}") from None


@dataclass(frozen=True)
class WechatIn:
    """One verified WeChat message, as the hotline reads it: wechatpy's objects stop here."""

    kind: str  # MsgType: text | image | voice | location | event | ...
    source: str  # FromUserName: the citizen's openid
    target: str  # ToUserName: the official account
    msg_id: str | None
    create_time: int
    encrypted: bool  # safe mode: the reply is encrypted too
    nonce: str
    content: str = ""
    pic_url: str | None = None
    media_id: str | None = None
    voice_format: str | None = None
    recognition: str | None = None  # WeChat's speech recognition of a voice message
    location: tuple[float, float] | None = None
    label: str = ""
    event: str = ""
    event_key: str = ""


class _ApiClient(WeChatClient):
    """wechatpy's client, aimed at HOTLINE_WECHAT_API_BASE (the token URL included)."""

    def __init__(self, appid: str, secret: str, api_base: str, session: Any) -> None:
        super().__init__(appid, secret, session=session, timeout=10)
        self.API_BASE_URL = api_base

    def fetch_access_token(self) -> dict[str, Any]:
        return self._fetch_access_token(url=self.API_BASE_URL + "token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})


class WechatChannel:
    def __init__(self, cfg: WechatConfig, settings: Settings, *, clock: Clock, inbox: Inbox,
                 token_store: SyncRedis | None, nonce_store: Redis | None = None) -> None:
        self.cfg = cfg
        self.settings = settings
        self.clock, self.inbox = clock, inbox
        # With Redis the access token is shared by every web node and worker: fetching a
        # token elsewhere would otherwise invalidate ours.
        self._token_store = token_store
        w = settings.wechat
        self.token = w.token
        self.crypto = WeChatCrypto(w.token, w.aes_key, w.appid) if (w.token and w.aes_key and w.appid) else None
        # A timestamp is good for MAX_CLOCK_SKEW either way: remember its nonces as long.
        self.nonces = NonceBook(nonce_store, ttl_seconds=2 * MAX_CLOCK_SKEW + 60, prefix="hotline:wechat:nonce")
        self._client: _ApiClient | None = None
        self._client_lock = threading.Lock()
        self._send_lock = asyncio.Lock()

    @property
    def can_send(self) -> bool:
        w = self.settings.wechat
        return bool(w.appid and w.secret)

    # ------------------------------------------------------------ verify
    def _check(self, request: web.Request) -> None:
        if not self.token:
            raise ChannelNotConfigured("微信渠道未配置（HOTLINE_WECHAT_TOKEN）")
        q = request.query
        ts = q.get("timestamp", "")
        try:
            check_signature(self.token, q.get("signature", ""), ts, q.get("nonce", ""))
        except InvalidSignatureException:
            log.warning("wechat: bad signature from %s", request.remote)
            raise ChannelAuthError("微信签名校验失败") from None
        if not ts.isdigit() or abs(int(ts) - self.clock().timestamp()) > MAX_CLOCK_SKEW:
            raise ChannelAuthError("timestamp 过期或无效（重放的请求）", code="stale_timestamp")

    def server_check(self, request: web.Request) -> str:
        self._check(request)
        return request.query.get("echostr", "")

    async def verify(self, request: web.Request) -> WechatIn:
        """Signature and timestamp, the XML (decrypted in safe mode), parsed into `WechatIn`."""
        self._check(request)
        if request.content_type not in XML_TYPES:
            raise UnsupportedMedia(f"请使用 text/xml（收到 {request.content_type}）")
        body = await read_body(request, self.cfg.max_body_bytes)
        q = request.query
        _xml_guard(body)
        encrypted = q.get("encrypt_type", "raw") == "aes"
        if not encrypted and self.crypto is not None and not self.cfg.plain_mode:
            raise ChannelAuthError("已配置 AES 密钥：只接受安全模式（加密）消息", code="plain_message_refused")
        if not encrypted:
            await self._first_use(request, body)
            return self._parse(body.decode("utf-8", "replace"), encrypted=False, nonce=q.get("nonce", ""))
        if self.crypto is None:
            raise BadPayload("收到安全模式消息，但未配置 HOTLINE_WECHAT_AES_KEY")
        try:
            xml = self.crypto.decrypt_message(body, q.get("msg_signature", ""), q.get("timestamp", ""),
                                              q.get("nonce", ""))
        except InvalidSignatureException:
            raise ChannelAuthError("msg_signature 校验失败") from None
        except InvalidAppIdException:
            raise ChannelAuthError("消息不属于本公众号（AppID 不符）", code="wrong_appid") from None
        except (KeyError, ValueError, TypeError, UnicodeDecodeError, IndexError, struct.error) as exc:
            # Signed by someone with the token, but not a message our key encrypted (wechatpy
            # unpacks the plaintext's length with struct: a short one is struct.error).
            raise BadPayload(f"密文无法解密：{type(exc).__name__}") from None
        plain = xml.encode("utf-8") if isinstance(xml, str) else xml
        _xml_guard(plain)
        # msg_signature covers the ciphertext already; binding the nonce to the decrypted
        # message keeps a retry that WeChat encrypts afresh a retry.
        await self._first_use(request, plain)
        return self._parse(xml, encrypted=True, nonce=q.get("nonce", ""))

    async def _first_use(self, request: web.Request, message: bytes) -> None:
        q = request.query
        if not await self.nonces.admit(q.get("timestamp", ""), q.get("nonce", ""), message):
            log.warning("wechat: a used nonce with another message from %s (replay)", request.remote)
            raise ChannelAuthError("nonce 已被使用（重放的请求）", code="replayed_nonce")

    # ------------------------------------------------------------ parse + answer
    @staticmethod
    def _parse(xml: str, *, encrypted: bool, nonce: str) -> WechatIn:
        """wechatpy's message object, read once into our own; it goes no further."""
        try:
            msg = parse_message(xml)
        except (KeyError, ValueError, TypeError) as exc:
            raise BadPayload(f"不是微信消息：{type(exc).__name__}") from None
        if msg is None or not msg.source:
            raise BadPayload("缺少 FromUserName")
        location = None
        if msg.type == "location":
            try:
                location = (float(msg.location_x), float(msg.location_y))
            except (TypeError, ValueError):
                raise BadPayload("位置消息坐标无效") from None
            if not (-90 <= location[0] <= 90 and -180 <= location[1] <= 180):
                raise BadPayload("位置消息坐标超出范围")
        return WechatIn(kind=msg.type, source=msg.source, target=msg.target, msg_id=str(msg.id) if msg.id else None,
                        create_time=msg.time, encrypted=encrypted, nonce=nonce,
                        content=getattr(msg, "content", None) or "", pic_url=getattr(msg, "image", None),
                        media_id=getattr(msg, "media_id", None), voice_format=getattr(msg, "format", None),
                        recognition=getattr(msg, "recognition", None), location=location,
                        label=(getattr(msg, "label", None) or "").strip()[:300],
                        event=getattr(msg, "event", "") or "", event_key=(getattr(msg, "key", "") or "").strip())

    def _inbound(self, msg: WechatIn, text: str, **kw: Any) -> Inbound:
        external = msg.msg_id or f"{msg.source}:{msg.create_time}:{msg.kind}"
        raw = {"MsgType": msg.kind, "MsgId": msg.msg_id or "", "CreateTime": msg.create_time}
        return Inbound(Channel.WECHAT, external, Identity(WECHAT, msg.source), self.clock(), text, raw=raw, **kw)

    async def receive(self, msg: WechatIn) -> Answer | None:
        """None: nothing to say (WeChat then wants the plain answer "success")."""
        name = self.settings.hotline.name
        kind = msg.kind
        if kind == "text":
            intent = classify(msg.content)
            if intent.kind in ("opt_out", "opt_in"):  # on WeChat one unfollows instead
                intent = Intent("new", intent.text)
            if not intent.text and intent.kind in ("new", "follow_up"):
                return Answer(texts.unsupported())
            return await self.inbox.handle(self._inbound(msg, msg.content), intent)
        if kind == "image":
            att = files.remote(msg.pic_url or "", kind="photo", content_type="image/jpeg",
                               filename=f"wechat-{msg.msg_id}.jpg")
            return await self.inbox.intake(self._inbound(msg, "[图片]", attachments=(att,)), "[图片]")
        if kind == "voice":
            text = (msg.recognition or "").strip() or "[语音]"
            att = files.remote(f"wechat-media:{msg.media_id}", kind="voice", content_type="audio/amr",
                               filename=f"wechat-{msg.msg_id}.{msg.voice_format or 'amr'}")
            return await self.inbox.intake(self._inbound(msg, text, attachments=(att,)), text)
        if kind == "location" and msg.location is not None:
            lat, lng = msg.location
            text = f"[位置] {msg.label}" if msg.label else "[位置]"
            return await self.inbox.intake(self._inbound(msg, text, address=msg.label or None, latitude=lat,
                                                         longitude=lng), text)
        if kind == "event":
            if msg.event in ("subscribe", "subscribe_scan"):
                return Answer(texts.welcome(name))
            if msg.event == "click":
                if msg.event_key.upper() in QUERY_KEYS:
                    return await self.inbox.handle(self._inbound(msg, "查询"), Intent("query", "查询"))
                reply = self.cfg.menu_replies.get(msg.event_key)
                return Answer(reply) if reply else Answer(texts.welcome(name))
            return None  # unsubscribe, view, location reports ...: nothing to answer
        return Answer(texts.unsupported())

    def acknowledge(self, request: web.Request, msg: WechatIn, answer: Answer | None) -> web.Response:
        if answer is None:
            return web.Response(text="success", content_type="text/plain")
        xml = TextReply(source=msg.target, target=msg.source, content=xml_safe(answer.text)).render()
        if msg.encrypted:
            assert self.crypto is not None
            xml = self.crypto.encrypt_message(xml, msg.nonce, str(int(self.clock().timestamp())))
        return web.Response(text=xml, content_type="application/xml", charset="utf-8")

    # ------------------------------------------------------------ outbound (outbox sender)
    def _api(self) -> _ApiClient:
        with self._client_lock:
            if self._client is None:
                w = self.settings.wechat
                storage = None
                if self._token_store is not None:
                    from wechatpy.session.redisstorage import RedisStorage

                    storage = RedisStorage(self._token_store, prefix="hotline:wechat")
                base = (w.api_base or "https://api.weixin.qq.com/cgi-bin/").rstrip("/") + "/"
                assert w.appid and w.secret
                self._client = _ApiClient(w.appid, w.secret, base, storage)
            return self._client

    def _send_sync(self, openid: str, text: str) -> None:
        self._api().message.send_text(openid, text)

    async def send(self, message: OutboxMessage) -> None:
        if not self.can_send:
            raise DeliveryFailed("WeChat is not configured (HOTLINE_WECHAT_APPID/SECRET)", retry_after=600)
        text = str(message.payload.get("text", ""))
        try:
            async with self._send_lock:  # one token refresh at a time
                await asyncio.to_thread(self._send_sync, message.target, text)
        except WeChatClientException as exc:
            code = exc.errcode
            if code in WINDOW_CLOSED:
                raise WindowClosed(f"WeChat errcode {code}: {exc.errmsg}") from None
            raise DeliveryFailed(f"WeChat errcode {code}: {exc.errmsg}",
                                 retryable=code not in PERMANENT) from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"WeChat unreachable: {type(exc).__name__}") from None

    async def send_template(self, openid: str, template_id: str, data: dict[str, dict[str, str]]) -> None:
        """A template message (POST message/template/send): not bound to the 48-hour window."""
        try:
            async with self._send_lock:
                await asyncio.to_thread(self._api().message.send_template, openid, template_id, data)
        except WeChatClientException as exc:  # 43004 unfollowed, 40037 bad template id: permanent
            raise DeliveryFailed(f"WeChat template errcode {exc.errcode}: {exc.errmsg}",
                                 retryable=exc.errcode not in PERMANENT | {40037}) from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"WeChat unreachable: {type(exc).__name__}") from None


    def _download_sync(self, media_id: str) -> tuple[bytes, str]:
        res = self._api().media.download(media_id)  # GET media/get?access_token=…&media_id=…
        if isinstance(res, dict):  # JSON without errcode: a video's URL, not a file we keep
            raise DeliveryFailed(f"WeChat media {media_id} is not a file", retryable=False)
        return res.content, res.headers.get("Content-Type", "")

    async def download(self, media_id: str) -> tuple[bytes, str]:
        """A temporary media file (临时素材: a voice message, a photo) by its MediaId: (bytes, type)."""
        if not self.can_send:
            raise DeliveryFailed("WeChat is not configured (HOTLINE_WECHAT_APPID/SECRET)", retry_after=600)
        try:
            async with self._send_lock:  # one token refresh at a time
                return await asyncio.to_thread(self._download_sync, media_id)
        except WeChatClientException as exc:  # 40007: the MediaId expired (after 3 days) or is wrong
            raise DeliveryFailed(f"WeChat errcode {exc.errcode}: {exc.errmsg}",
                                 retryable=exc.errcode not in PERMANENT | {40007}) from None
        except requests.RequestException as exc:
            raise DeliveryFailed(f"WeChat unreachable: {type(exc).__name__}") from None


def install_routes(h: Hotline, channel: WechatChannel) -> None:
    async def check(request: web.Request) -> web.Response:
        return web.Response(text=channel.server_check(request), content_type="text/plain")

    def add(app: web.Application) -> None:
        app.router.add_get(PATH, check)
        app.router.add_post(PATH, channel_handler(channel, hold=channel.cfg.outage_hold_seconds))
    h.routes.append(add)
