"""Photos, voice messages and MMS that citizens send, copied from the vendor into the
hotline's own storage.

At intake a WeChat photo is its `PicUrl`, a voice message `wechat-media:<MediaId>` and an
MMS Twilio's media URL: references that stop working (WeChat keeps temporary media for 3
days) or need the account's credentials (Twilio's media URLs ask for HTTP basic auth with
the account SID and token). In the same transaction as the contact, one outbox message of
kind `media` per such attachment is written; its delivery downloads the file, stores it with
`channels.files.store` (the one function that writes attachments) and points the attachment
row at the copy. Retried with the outbox's back-off; idempotent: a second delivery of the
same message finds the attachment already local and does nothing, and of two racing ones
only the first to update the row keeps its copy.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from typing import TYPE_CHECKING

import aiohttp

from channels import files, queries
from hotline.domain.vocabulary import Channel
from hotline.outbox import DeliveryFailed, enqueue

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from hotline.clock import Clock
    from hotline.contact import Contact
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import OutboxMessage
    from hotline.workorders import Change

log = logging.getLogger(__name__)

KIND = "media"  # the outbox kind
WECHAT_MEDIA = "wechat-media:"
REMOTE = ("https://", "http://", WECHAT_MEDIA)
# Only the vendors' own references are fetched: an Open311 client's media_url is anybody's URL.
FETCHED = (Channel.WECHAT.value, Channel.SMS.value)
MAX_BYTES = 20 * 1024 * 1024  # WeChat: images ≤ 10 MB, voice ≤ 2 MB; Twilio MMS ≤ 5 MB
PERMANENT_HTTP = {404, 410}  # deleted at the vendor: retrying cannot help


class MediaFetcher:
    """The outbox sender of kind `media`, and the intake effects that queue its messages."""

    def __init__(self, settings: Settings, *, sessions: SessionFactory, clock: Clock, http: aiohttp.ClientSession,
                 wechat_download: Callable[[str], Awaitable[tuple[bytes, str]]],
                 nudge: Callable[[], Awaitable[None]]) -> None:
        self.settings = settings
        self.sessions, self.clock, self.http = sessions, clock, http
        self.wechat_download = wechat_download
        self.nudge = nudge
        self.data_dir: Path = settings.data_dir

    # ------------------------------------------------------------ queueing, in the intake transaction
    @staticmethod
    def may_have_media(contact: Contact) -> bool:
        """Cheap and conservative, so contacts without media keep intake's fast path."""
        return contact.channel.value in FETCHED and any(a.location.startswith(REMOTE) for a in contact.attachments)

    async def on_created(self, change: Change) -> None:
        await self._queue(change)

    async def on_change(self, change: Change) -> None:
        if change.event.kind == "contact_appended":  # 补充: a photo sent to an open order
            await self._queue(change)

    async def _queue(self, change: Change) -> None:
        contact_id = change.event.data.get("contact_id")
        if not isinstance(contact_id, int):
            return
        await change.session.flush()  # intake added the attachment rows; they need their ids
        ids = await queries.remote_media_of(change.session, contact_id, FETCHED, REMOTE)
        for attachment_id in ids:
            # Its own ordering key: a slow download never holds back the citizen's notices.
            enqueue(change.session, kind=KIND, target=str(attachment_id), event="media.fetch",
                    payload={"attachment_id": attachment_id}, now=change.now, work_order_id=change.order.id,
                    ordering_key=f"media:{attachment_id}")
        if ids:
            change.after_commit.append(self.nudge)

    # ------------------------------------------------------------ delivering
    async def send(self, message: OutboxMessage) -> None:
        attachment_id = int(message.target)
        async with self.sessions() as session:
            media = await queries.remote_media(session, attachment_id)
        if media is None:
            raise DeliveryFailed(f"attachment {attachment_id} does not exist", retryable=False)
        if not media.location.startswith(REMOTE):
            return  # already ours: an earlier delivery of this message got there
        data, declared = await self._fetch(media)
        if media.kind == "photo":
            content_type = files.sniff_image(data)
            if content_type is None:
                raise DeliveryFailed(f"attachment {attachment_id}: the vendor's file is not an image", retryable=False)
        else:
            content_type = media.content_type or declared.split(";")[0].strip() or "application/octet-stream"
        stored = await files.store(self.data_dir, data, kind=media.kind, content_type=content_type,
                                   filename=media.filename, now=self.clock())
        async with self.sessions() as session, session.begin():
            ours = await queries.localise_media(session, attachment_id, was=media.location, location=stored.location,
                                                content_type=stored.content_type, size=stored.size,
                                                sha256=stored.sha256)
        if not ours:  # a concurrent delivery stored it first; keep one copy
            with contextlib.suppress(OSError):
                (self.data_dir / stored.location).unlink()
            return
        log.info("media: attachment %s (%s) stored, %d bytes", attachment_id, media.channel, stored.size)

    async def _fetch(self, media: queries.RemoteMedia) -> tuple[bytes, str]:
        if media.location.startswith(WECHAT_MEDIA):
            return await self.wechat_download(media.location.removeprefix(WECHAT_MEDIA))
        auth = self._twilio_auth(media.location) if media.channel == Channel.SMS.value else None
        return await self._get(media.location, auth)

    def _twilio_auth(self, url: str) -> str:
        """The account's credentials, for the account's own media URLs only: never sent elsewhere."""
        tw = self.settings.twilio
        if not (tw.account_sid and tw.auth_token):
            raise DeliveryFailed("Twilio is not configured (HOTLINE_TWILIO_ACCOUNT_SID/AUTH_TOKEN)", retry_after=600)
        base = (tw.api_base or "https://api.twilio.com").rstrip("/")
        if not url.startswith(f"{base}/2010-04-01/Accounts/{tw.account_sid}/"):
            raise DeliveryFailed("the MMS media URL is not this Twilio account's; credentials not sent",
                                 retryable=False)
        return "Basic " + base64.b64encode(f"{tw.account_sid}:{tw.auth_token}".encode()).decode()

    async def _get(self, url: str, auth: str | None) -> tuple[bytes, str]:
        # aiohttp drops the Authorization header when Twilio redirects to its CDN (another origin).
        headers = {"Authorization": auth} if auth else {}
        try:
            async with self.http.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as r:
                if r.status != 200:
                    raise DeliveryFailed(f"HTTP {r.status} from the media URL",
                                         retryable=r.status not in PERMANENT_HTTP)
                chunks, size = [], 0
                async for chunk in r.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise DeliveryFailed(f"media larger than {MAX_BYTES} bytes", retryable=False)
                    chunks.append(chunk)
                return b"".join(chunks), r.headers.get("Content-Type", "")
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"media URL unreachable: {type(exc).__name__}") from None
