"""Media linkage (媒体联动, "线、报、声、屏、网"): press partners, their keys, orders entered
from what an outlet raised, and the result sent back to the outlet.

- A partner is configured (`public.media_partners`: code, name, outlet newspaper/radio/tv/web,
  webhook URL + secret). An administrator issues it keys (`hlm_<prefix>_<secret>`); a key
  reads only the partner feed: the published cases and the statistics (`X-Media-Key`).
- Staff enter an issue raised in a programme or an article as an order through intake, on
  the channel `media`: the contact's `raw` keeps the partner, the outlet and the programme,
  and `(media, partner:reference)` makes the entry idempotent.
- When such an order closes, the masked result (`disclose.draft`, never a confidential
  report) goes to the partner's webhook: an outbox message of kind `press`, written in the
  closing transaction, signed like departments' webhooks (`hotline.signed`), of kind `press`.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from hotline.domain.vocabulary import Channel, Status
from hotline.errors import NotFound, Unauthorized, ValidationFailed
from hotline.outbox import DeliveryFailed, enqueue
from hotline.public import queries
from hotline.public.disclose import Draft, draft
from hotline.public.keys import matches, new_key, split_key
from hotline.public.models import MediaKey
from hotline.signed import post_signed

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from hotline.clock import Clock
    from hotline.contact import Contact
    from hotline.intake import Intake, IntakeResult
    from hotline.public.config import MediaPartner, PublicConfig
    from hotline.public.service import Disclosure
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import OutboxMessage
    from hotline.workorders import Change

KIND = "press"  # the outbox kind ("media" is channels' vendor-media fetching)
KEY_PREFIX = "hlm_"


class Media:
    def __init__(self, cfg: PublicConfig, sessions: SessionFactory, clock: Clock, intake: Intake,
                 disclosure: Disclosure, nudge: Callable[[], Awaitable[None]]) -> None:
        self.cfg, self.sessions, self.clock, self.intake = cfg, sessions, clock, intake
        self.disclosure = disclosure
        self.nudge = nudge

    def partner(self, code: str) -> MediaPartner:
        p = self.cfg.partner(code)
        if p is None:
            raise ValidationFailed(f"合作媒体 {code[:64]} 不存在", code="unknown_partner",
                                   title_en="No such media partner")
        return p

    # ------------------------------------------------------------ keys

    async def issue_key(self, code: str, label: str) -> tuple[MediaKey, str]:
        self.partner(code)
        prefix, digest, key = new_key(KEY_PREFIX)
        async with self.sessions() as session, session.begin():
            row = MediaKey(prefix=prefix, secret_hash=digest, partner=code, label=label, created_at=self.clock())
            session.add(row)
            await session.flush()
        return row, key

    async def revoke_key(self, key_id: int) -> MediaKey:
        async with self.sessions() as session, session.begin():
            row = await queries.media_key(session, key_id)
            if row is None:
                raise NotFound(f"密钥 {key_id} 不存在", title_en="No such key")
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            return row

    async def partner_for_key(self, key: str | None) -> MediaPartner:
        """The partner a presented key belongs to; looked up every time, so a revoked key fails at once."""
        bad = Unauthorized("X-Media-Key 无效", code="bad_media_key", title_en="Invalid X-Media-Key")
        parts = split_key(key, KEY_PREFIX)
        if parts is None:
            raise bad
        async with self.sessions() as session:
            row = await queries.live_media_key(session, parts[0])
        if row is None or not matches(row.secret_hash, parts[1]):
            raise bad
        p = self.cfg.partner(row.partner)
        if p is None:  # the partner left the config: its keys stop working
            raise bad
        return p

    # ------------------------------------------------------------ intake

    async def enter(self, partner: str, reference: str, programme: str, contact: Contact,
                    agent_id: int | None) -> IntakeResult:
        """An issue an outlet raised, entered by staff as an order (intake writes the contact)."""
        p = self.partner(partner)
        raw = {**contact.raw, "partner": p.code, "outlet": p.outlet, "programme": programme}
        return await self.intake.receive(replace(contact, channel=Channel.MEDIA, external_id=f"{p.code}:{reference}",
                                                 raw=raw), agent_id=agent_id)

    # ------------------------------------------------------------ the result, back to the outlet

    async def on_change(self, change: Change) -> None:
        if change.after.status != Status.CLOSED or change.before.status == Status.CLOSED:
            return
        o = change.order
        if o.channel != Channel.MEDIA.value or o.confidential:
            return
        source = await queries.media_source(change.session, o.id)
        partner = self.cfg.partner(str((source or {}).get("partner", "")))
        if partner is None or not partner.webhook.url:
            return
        result = draft(await self.disclosure.facts(change.session, o))
        if not isinstance(result, Draft):
            return
        case = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(result).items()}
        enqueue(change.session, kind=KIND, target=partner.code, event="media.result",
                payload={"partner": partner.code, "programme": (source or {}).get("programme"), "case": case},
                now=change.now, work_order_id=o.id)
        change.after_commit.append(self.nudge)


class MediaSender:
    """The outbox strategy for kind `press`: the partner's webhook, signed like departments'."""

    def __init__(self, cfg: PublicConfig, clock: Clock, http: aiohttp.ClientSession, timeout: float = 10.0) -> None:
        self.cfg, self.clock, self.http = cfg, clock, http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboxMessage) -> None:
        p = self.cfg.partner(message.target)
        if p is None or not p.webhook.url or not p.webhook.secret:
            raise DeliveryFailed(f"media partner {message.target!r} has no webhook URL/secret configured",
                                 retryable=False)
        await post_signed(self.http, p.webhook.url, p.webhook.secret, message, self.clock, self.timeout)


MEDIA: web.AppKey[Media] = web.AppKey("public.media")
