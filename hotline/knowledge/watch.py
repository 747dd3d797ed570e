"""The hotspot watch: every `tick_seconds`, the sliding window of new orders against the
baseline, by place × matter (`hotline.knowledge.hotspots`) and by similar texts whatever
their subject and area (`hotline.knowledge.textbursts`: an alert of its own only when the
texts are not mostly a place × matter burst already); a burst becomes one alert (热点预警), told to the
supervision office through the outbox (its webhook when it has one, SMS to its contacts
when SMS is configured) and on the live bus (the wallboard), in one transaction; one
action merges the burst under its first order (the parent)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError

from hotline.domain.vocabulary import OPEN, Status
from hotline.errors import Conflict, NotFound, ValidationFailed
from hotline.knowledge import queries
from hotline.knowledge.hotspots import Burst, Keyer, Seen, Thresholds, bursts
from hotline.knowledge.models import KnowledgeHotspotAlert
from hotline.knowledge.textbursts import Baseline, Said, TextBurst, TextThresholds, grams, text_bursts
from hotline.outbox import enqueue_many, message_values

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.clock import Clock
    from hotline.domain import workorder as wo
    from hotline.knowledge.config import HotspotsConfig
    from hotline.knowledge.merging import Merging
    from hotline.live import LiveBus
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import WorkOrder

log = logging.getLogger(__name__)
EVENT = "hotspot_alert"
TEXT = "text:"  # the matter of a text cluster's alert: text:<one of its texts>


@dataclass
class _Words:
    """The text baseline's counts, kept `baseline_refresh_minutes` (a week of texts is not
    read again every tick)."""

    at: datetime
    counts: Baseline
    texts: list[frozenset[str]]


@dataclass
class HotspotWatch:
    settings: Settings
    cfg: HotspotsConfig
    sessions: SessionFactory
    clock: Clock
    keyer: Keyer
    merging: Merging
    live: LiveBus
    nudge: Any  # wakes the outbox once the alert is committed
    _words: _Words | None = None

    @property
    def thresholds(self) -> Thresholds:
        c = self.cfg
        return Thresholds(c.window_minutes, c.baseline_days, c.min_count, c.factor)

    @property
    def text_thresholds(self) -> TextThresholds:
        c, t = self.cfg, self.cfg.text
        return TextThresholds(c.window_minutes, c.baseline_days, t.min_count, t.factor, t.min_term_docs)

    def grams(self, title: str | None, description: str | None) -> frozenset[str]:
        return grams(self.keyer.fold(" ".join(x for x in (title, description) if x)))

    def seen(self, o: WorkOrder | Any) -> Seen:
        """An order (or a row of its columns) as the detector sees it."""
        text = " ".join(x for x in (o.title, o.description) if x)
        return Seen(o.id, o.number, o.created_at, self.keyer.key(o.area, o.address, text, o.subject, o.category))

    def _areas(self, places: set[str]) -> list[str]:
        parent = self.keyer.gazetteer.parent
        return sorted(places | {v for v, t in parent.items() if t in places} | {parent[p] for p in places if p in parent})

    async def tick(self) -> list[KnowledgeHotspotAlert]:
        """One look at the window; the alerts raised or updated."""
        now = self.clock()
        window = timedelta(minutes=self.cfg.window_minutes)
        async with self.sessions() as session:
            rows = await queries.orders_created_between(session, now - window, now + timedelta(seconds=1),
                                                        limit=self.cfg.scan_limit, live_only=True)
            current = [self.seen(o) for o in rows]
            counts: dict[str, int] = {}
            for s in current:
                if s.key is not None:
                    counts[s.key.place] = counts.get(s.key.place, 0) + 1
            places = {p for p, n in counts.items() if n >= self.cfg.min_count}
            found: list[Burst] = []
            if places:
                start = now - window - timedelta(days=self.cfg.baseline_days)
                before = await queries.orders_created_between(session, start, now - window,
                                                              limit=self.cfg.scan_limit * 10, areas=self._areas(places))
                found = bursts(current, (self.seen(o) for o in before), self.thresholds)
        raised = [a for b in found if (a := await self._raise(b.key.text(), b.key.place, b.key.matter, b, now))]
        if self.cfg.text.enabled:
            raised += await self._text_tick(rows, current, found, now)
        return raised

    async def _baseline_words(self, now: datetime) -> _Words:
        t = self.cfg.text
        if self._words is None or now - self._words.at >= timedelta(minutes=t.baseline_refresh_minutes):
            window = timedelta(minutes=self.cfg.window_minutes)
            async with self.sessions() as session:
                rows = await queries.texts_created_between(session, now - window - timedelta(days=self.cfg.baseline_days),
                                                           now - window, limit=t.baseline_limit)
            texts = [self.grams(r.title, r.description) for r in rows]
            self._words = _Words(now, Baseline.of(texts), texts)
        return self._words

    async def _text_tick(self, rows: list[Any], current: list[Seen], found: list[Burst],
                         now: datetime) -> list[KnowledgeHotspotAlert]:
        """Clusters of similar texts: an alert of their own unless mostly a place × matter burst's orders."""
        if len(rows) < self.cfg.text.min_count:
            return []
        said = [Said(o.id, o.number, o.created_at, self.grams(o.title, o.description),
                     s.key.place if s.key else None) for o, s in zip(rows, current, strict=True)]
        words = await self._baseline_words(now)
        text_of = {o.id: " ".join(x for x in (o.title, o.description) if x) for o in rows}
        hot = text_bursts(said, words.counts, words.texts, self.text_thresholds, text_of)
        if not hot:
            return []
        async with self.sessions() as session:
            open_alerts = await queries.alerts(session, "open", 500)
        covered = {n for b in found for n in b.numbers}
        covered |= {n for a in open_alerts if not a.matter.startswith(TEXT) for n in a.numbers}
        out = []
        for tb in hot:
            if 2 * len(covered.intersection(tb.numbers)) >= tb.count:
                continue  # the same burst as a place × matter one: one alert, not two
            mine = set(tb.numbers)
            same = next((a for a in open_alerts if a.matter.startswith(TEXT)
                         and 2 * len(mine.intersection(a.numbers)) >= min(len(mine), len(a.numbers))), None)
            key, place, matter = ((same.key, same.place, same.matter) if same else
                                  (f"{TEXT}{tb.numbers[0]}", tb.place or self.settings.hotline.county,
                                   f"{TEXT}{tb.label}"[:80]))
            if (a := await self._raise(key, place, matter, tb, now)) is not None:
                out.append(a)
        return out

    async def _raise(self, key: str, place: str, matter: str, b: Burst | TextBurst,
                     now: datetime) -> KnowledgeHotspotAlert | None:
        try:
            async with self.sessions() as session, session.begin():
                alert = await queries.open_alert(session, key)
                new = alert is None
                if alert is None:
                    alert = KnowledgeHotspotAlert(key=key, place=place, matter=matter, status="open",
                                                  first_at=b.first_at, created_at=now, count=0, usual=b.usual,
                                                  last_at=b.last_at, numbers=[], updated_at=now)
                    queries.add_alert(session, alert)
                numbers = sorted(set(alert.numbers) | set(b.numbers))
                if not new and numbers == alert.numbers:
                    return None  # nothing new since the last look
                # The alert holds every order the burst has had, also those the window has left behind.
                alert.numbers, alert.count = numbers, len(numbers)
                alert.usual, alert.last_at, alert.updated_at = b.usual, max(alert.last_at, b.last_at), now
                await session.flush()
                if new:
                    await self._tell(session, alert, now)
        except IntegrityError:  # another process raised it first: theirs is the one alert
            return None
        await self.live.publish("hotspot", self.payload(alert) | {"new": new})
        if new:
            await self.nudge()
        return alert

    def names(self, alert: KnowledgeHotspotAlert) -> tuple[str, str]:
        d = self.settings.department(alert.place)
        place = d.name.removeprefix(self.settings.hotline.county) if d else alert.place
        if alert.matter.startswith(TEXT):
            return place, f"相似诉求：{alert.matter.removeprefix(TEXT)}"
        matter = alert.matter.removeprefix("category:")
        for g in self.settings.subjects:
            for s in (g, *g.children):
                if s.code == matter:
                    matter = s.name
        return place, matter

    def payload(self, alert: KnowledgeHotspotAlert) -> dict[str, Any]:
        place, matter = self.names(alert)
        return {"id": alert.id, "place": alert.place, "place_name": place, "matter": alert.matter,
                "matter_name": matter, "by": "text" if alert.matter.startswith(TEXT) else "place_matter",
                "status": alert.status, "count": alert.count, "usual": alert.usual,
                "window_minutes": self.cfg.window_minutes, "first_at": alert.first_at.isoformat(),
                "last_at": alert.last_at.isoformat(), "parent": alert.parent_number,
                "orders": list(alert.numbers)}

    async def _tell(self, session: AsyncSession, alert: KnowledgeHotspotAlert, now: datetime) -> None:
        """The supervision office hears of a new alert: in the alert's transaction."""
        office = self.settings.department(self.cfg.office)
        if office is None:
            return
        body = self.payload(alert)
        rows = []
        if office.webhook.url:
            rows.append(message_values(kind="webhook", target=office.code, event=EVENT, payload={"hotspot": body},
                                       now=now, ordering_key=f"hotspot:{office.code}"))
        tw = self.settings.twilio
        if tw.account_sid and tw.auth_token and tw.from_number:
            place, matter = self.names(alert)
            text = (f"【{self.settings.hotline.name}】热点预警：{place}「{matter}」{self.cfg.window_minutes}分钟内"
                    f"{alert.count}件诉求（平时约{alert.usual:g}件），请关注并研判是否并单处理。")
            rows += [message_values(kind="sms", target=c.phone, event=EVENT,
                                    payload={"text": text, "hotspot": alert.id}, now=now,
                                    ordering_key=f"sms:hotspot:{c.phone}")
                     for c in office.contacts if c.phone]
        if rows:
            await enqueue_many(session, rows)

    async def list(self, status: str | None = "open", limit: int = 50) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            return [self.payload(a) for a in await queries.alerts(session, status, limit)]

    async def merge(self, alert_id: int, actor: wo.Actor) -> dict[str, Any]:
        """The one action: the burst's first open order becomes the parent, the rest merge into it."""
        async with self.sessions() as session:
            alert = await queries.alert_by_id(session, alert_id)
            if alert is None:
                raise NotFound(f"热点预警 {alert_id} 不存在", code="hotspot_not_found")
            if alert.status != "open":
                raise Conflict(f"热点预警 {alert_id} 已处理（{alert.status}）", code="hotspot_done")
            numbers = list(alert.numbers)
            rows = {o.number: o for o in await queries.orders_by_numbers(session, numbers)}
        live = [n for n in sorted(numbers, key=lambda n: (rows[n].created_at, n) if n in rows else (alert.last_at, n))
                if n in rows and Status(rows[n].status) in OPEN]
        if len(live) < 2:
            raise ValidationFailed("预警涉及的工单已办结或已并单，无需再并", code="nothing_to_merge")
        parent, children = live[0], live[1:]

        async def close(session: AsyncSession) -> None:
            a = await queries.alert_by_id(session, alert_id, lock=True)
            if a is None or a.status != "open":
                raise Conflict(f"热点预警 {alert_id} 已处理", code="hotspot_done")
            a.status, a.parent_number, a.updated_at = "merged", parent, self.clock()

        await self.merging.merge(parent, children, actor, also=close)
        return {"id": alert_id, "parent": parent, "merged": children}

    async def close(self, alert_id: int) -> None:
        async with self.sessions() as session, session.begin():
            a = await queries.alert_by_id(session, alert_id, lock=True)
            if a is None:
                raise NotFound(f"热点预警 {alert_id} 不存在", code="hotspot_not_found")
            if a.status == "open":
                a.status, a.updated_at = "closed", self.clock()

    async def run(self) -> None:
        """The loop `serve` runs (a supervised task: restarted if it crashes)."""
        while True:
            try:
                await self.tick()
            except Exception:  # a database hiccup: look again next tick, the loop stays up
                log.exception("hotspot tick failed")
            await asyncio.sleep(self.cfg.tick_seconds)


HOTSPOTS: web.AppKey[HotspotWatch] = web.AppKey("knowledge-hotspots")
