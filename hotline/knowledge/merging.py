"""并单: duplicate candidates for an order, merging several orders under a parent, and the
parent's reply carried to every merged child through the normal transitions.

A child answered with its parent's reply gets its own `replied` event (`ReplyWithParent`),
inside the parent's transaction: the effects run for it as for any reply, so its citizen
is told on the child's own channel, its follow-up timer is set, and whatever else listens
to replies (follow-up, KPIs) sees each child."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.domain import workorder as wo
from hotline.domain.vocabulary import OPEN, Status
from hotline.errors import NotFound, ValidationFailed
from hotline.knowledge import queries
from hotline.knowledge.duplicates import Candidate, Gazetteer, Place, Rules, candidates, facts
from hotline.storage.orders import load_for_update

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.clock import Clock
    from hotline.knowledge.config import DuplicatesConfig
    from hotline.knowledge.duplicates import OrderFacts
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import WorkOrder
    from hotline.workorders import Change, WorkOrderService

ANSWERED = (Status.REPLIED, Status.RESOLVED_DIRECTLY)


def facts_of(g: Gazetteer, o: WorkOrder | Any) -> OrderFacts:
    """An order's duplicate facts (a WorkOrder, or a row with its columns)."""
    return facts(g, o.number, o.created_at, o.category, o.subject, o.area, o.address,
                 " ".join(x for x in (o.title, o.description) if x), o.title or "")


@dataclass
class Merging:
    settings: Settings
    cfg: DuplicatesConfig
    sessions: SessionFactory
    clock: Clock
    orders: WorkOrderService
    gazetteer: Gazetteer

    @property
    def rules(self) -> Rules:
        return Rules(self.cfg.window_hours, self.cfg.min_similarity, self.cfg.min_similarity_without_subject)

    def areas_for(self, place: Place) -> list[str]:
        """The areas an order of this place can share its place with: its own village and
        its town (orders of another village of the town have another place); without a
        village, the town and every village of it (the road decides)."""
        if place.town is None:
            return []
        if place.village is not None:
            return [place.village, place.town]
        return [place.town, *(v for v, t in self.gazetteer.parent.items() if t == place.town)]

    async def candidates_for(self, number: str, limit: int | None = None) -> list[Candidate]:
        async with self.sessions() as session:
            o = await queries.order_by_number(session, number)
            if o is None:
                raise NotFound(f"工单 {number} 不存在", code="workorder_not_found")
            return await self.candidates_of(session, o, limit)

    async def candidates_of(self, session: AsyncSession, o: WorkOrder | Any, limit: int | None = None,
                            *, created_before: bool = False) -> list[Candidate]:
        """An order's candidates (a WorkOrder, or a row with its id and columns); `created_before`:
        only the orders already there when it came in (what intake's check records)."""
        window = timedelta(hours=self.cfg.window_hours)
        me = facts_of(self.gazetteer, o)
        rows = await queries.nearby_open_orders(session, self.areas_for(me.place), o.created_at - window,
                                                o.created_at if created_before else o.created_at + window,
                                                exclude=o.id, subject=o.subject, limit=self.cfg.scan_limit)
        return candidates(me, (facts_of(self.gazetteer, r) for r in rows), self.rules, limit or self.cfg.limit)

    async def merge(self, parent: str, children: Sequence[str], actor: wo.Actor,
                    also: Callable[[AsyncSession], Awaitable[None]] | None = None) -> list[Change]:
        """Every child merged into `parent` in one transaction, or none (a child that may not
        be merged refuses the lot, with the rules' reason). `also` writes more in the same
        transaction (the hotspot alert the merge closes)."""
        wanted = sorted({c for c in children if c != parent})  # one lock order for everyone: no deadlock
        if not wanted:
            raise ValidationFailed("请指定要并入的工单（不能是主工单本身）", code="no_children")
        now = self.clock()
        changes = []
        async with self.sessions() as session, session.begin():
            target = await load_for_update(session, parent)
            if Status(target.status) not in OPEN:
                raise ValidationFailed(f"主工单 {parent} 已办结或已并单，不能作为并单目标", code="bad_merge_target")
            for number in wanted:
                child = await load_for_update(session, number)
                changes.append(await self.orders.apply_loaded(session, child, wo.Merge(actor, parent), now))
            if also is not None:
                await also(session)
        for change in changes:
            await self.orders.committed(change)
        return changes

    async def on_change(self, change: Change) -> None:
        """The effect: an order answered → each order merged into it answered with its reply."""
        if change.after.status not in ANSWERED or change.before.status == change.after.status:
            return
        data = change.event.data
        result = str(data.get("result") or data.get("answer") or "").strip()
        if not result:
            return
        number = change.order.number
        for child in await queries.merged_children(change.session, number):
            order = await load_for_update(change.session, child)
            command = wo.ReplyWithParent(change.event.actor, number, f"{result}\n（本件已并入工单 {number} 办理）",
                                         change.order.lead_department)
            child_change = await self.orders.apply_loaded(change.session, order, command, change.now)

            async def announce(c: Change = child_change) -> None:
                await self.orders.committed(c)
            change.after_commit.append(announce)


MERGING: web.AppKey[Merging] = web.AppKey("knowledge-merging")
