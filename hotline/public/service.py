"""Disclosure's use cases (政务公开): preview, publish (by a supervisor or by a category
rule), withdraw, citizens' comments and their moderation, the statistics.

Every published text is a `disclose.Draft`: masked by the core's masking, refused for a
confidential report. Each publication, withdrawal and moderation writes a `public_audit`
row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from aiohttp import web

from hotline.domain.vocabulary import Status
from hotline.errors import Conflict, HotlineError, NotFound
from hotline.masking import mask
from hotline.public import queries
from hotline.public.disclose import CaseFacts, Draft, Refusal, draft
from hotline.public.models import PublicAudit, PublicCase, PublicComment
from hotline.ratelimit import RateLimiter

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.domain.state import Actor
    from hotline.public.config import PublicConfig
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory
    from hotline.storage.models import WorkOrder
    from hotline.workorders import Change

Period = Literal["day", "month"]


@dataclass(frozen=True)
class DepartmentRate:
    department: str
    replies: int
    on_time: int
    ratings: int
    satisfied: int


@dataclass(frozen=True)
class Stats:
    period: Period
    start: date
    end: date  # exclusive
    contacts: dict[str, int]
    top_subjects: list[tuple[str, int]]
    departments: list[DepartmentRate]


def period_bounds(period: Period, day: date) -> tuple[date, date]:
    """The local days [start, end) of the day or month that holds `day`."""
    if period == "day":
        return day, day + timedelta(days=1)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


def refused(r: Refusal) -> Conflict:
    return Conflict(r.zh, code=f"not_publishable_{r.code}", title_en=r.en)


class Disclosure:
    def __init__(self, cfg: PublicConfig, settings: Settings, sessions: SessionFactory,
                 clock: Callable[[], datetime]) -> None:
        self.cfg = cfg
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.comment_limit = RateLimiter(cfg.comments_per_client, cfg.comment_window_seconds)

    # ------------------------------------------------------------ publishing

    async def facts(self, session: AsyncSession, order: WorkOrder) -> CaseFacts:
        answers = [*queries.lead_replies(order), *await queries.direct_answers(session, order.id)]
        name = await queries.citizen_name(session, order.citizen_id)
        return CaseFacts(number=order.number, status=order.status, confidential=bool(order.confidential),
                         title=order.title, description=order.description, category=order.category,
                         subject=order.subject, address=order.address, lead_department=order.lead_department,
                         created_at=order.created_at, closed_at=order.closed_at, rating=order.rating,
                         answers=tuple(answers), names=(order.contact_name, name))

    async def _load(self, session: AsyncSession, number: str) -> WorkOrder:
        order = await queries.order_for_case(session, number)
        if order is None:
            raise NotFound(f"工单 {number} 不存在", title_en="No such work order")
        return order

    async def preview(self, number: str) -> tuple[Draft, PublicCase | None]:
        """The masked text as it would be published (a `Conflict` says why it cannot be)."""
        async with self.sessions() as session:
            order = await self._load(session, number)
            result = draft(await self.facts(session, order))
            existing = await queries.case_of(session, order.id)
        if isinstance(result, Refusal):
            raise refused(result)
        return result, existing

    async def publish(self, number: str, actor: Actor, digest: str | None) -> PublicCase:
        """Publish what the preview showed; `digest` (from the preview) refuses a text that
        changed since (the order was corrected meanwhile)."""
        async with self.sessions() as session, session.begin():
            order = await self._load(session, number)
            result = draft(await self.facts(session, order))
            if isinstance(result, Refusal):
                raise refused(result)
            if digest is not None and digest != result.digest():
                raise Conflict("公开内容已变化，请重新预览后再发布", code="preview_changed",
                               title_en="The text changed since the preview; preview again")
            return await self._store(session, order.id, result, actor, "manual")

    async def _store(self, session: AsyncSession, work_order_id: int, d: Draft, actor: Actor, rule: str
                     ) -> PublicCase:
        now = self.clock()
        row = await queries.case_of(session, work_order_id)
        if row is not None and row.withdrawn_at is None:
            raise Conflict(f"工单 {d.number} 已公开", code="already_published", title_en="Already published")
        if row is None:
            row = PublicCase(work_order_id=work_order_id, number=d.number)
            session.add(row)
        row.title, row.question, row.answer = d.title, d.question, d.answer
        row.department, row.category, row.subject, row.location = d.department, d.category, d.subject, d.location
        row.asked_at, row.closed_at, row.rating, row.digest = d.asked_at, d.closed_at, d.rating, d.digest()
        row.rule, row.published_at, row.withdrawn_at = rule, now, None
        row.published_by = actor.name or actor.id or actor.kind.value
        session.add(PublicAudit(work_order_id=work_order_id, number=d.number, action="publish",
                                actor_kind=actor.kind.value, actor_id=actor.id, actor_name=actor.name, at=now,
                                data={"rule": rule, "digest": row.digest, "title": d.title, "question": d.question,
                                      "answer": d.answer}))
        await session.flush()
        return row

    async def withdraw(self, number: str, actor: Actor, reason: str) -> PublicCase:
        async with self.sessions() as session, session.begin():
            order = await self._load(session, number)
            row = await queries.case_of(session, order.id)
            if row is None or row.withdrawn_at is not None:
                raise NotFound(f"工单 {number} 未公开", code="not_published", title_en="Not published")
            row.withdrawn_at = self.clock()
            session.add(PublicAudit(work_order_id=order.id, number=number, action="withdraw",
                                    actor_kind=actor.kind.value, actor_id=actor.id, actor_name=actor.name,
                                    at=row.withdrawn_at, data={"reason": reason}))
            return row

    async def on_change(self, change: Change) -> None:
        """The category rule: an order closing in a listed category is published, in the
        closing transaction, unless it is confidential or has no answer."""
        o = change.order
        if (change.after.status != Status.CLOSED or change.before.status == Status.CLOSED
                or o.category not in self.cfg.publish_categories or o.confidential):
            return
        session = change.session
        result = draft(await self.facts(session, o))
        if isinstance(result, Refusal) or await queries.case_of(session, o.id) is not None:
            return
        from hotline.domain.state import SYSTEM

        await self._store(session, o.id, result, SYSTEM, "category")

    # ------------------------------------------------------------ comments

    async def comment(self, number: str, text: str, client: str) -> PublicComment:
        """A citizen's comment, masked and kept for moderation; never shown before approval."""
        text = text.strip()
        if not text or len(text) > self.cfg.comment_max_chars:
            raise HotlineError(f"评论须为 1 至 {self.cfg.comment_max_chars} 字", code="bad_comment", status=422,
                               title_en=f"A comment has 1 to {self.cfg.comment_max_chars} characters")
        if not self.comment_limit.allow(client):
            raise HotlineError("评论过于频繁，请稍后再试", code="too_many_comments", status=429,
                               title_en="Too many comments; try again later")
        async with self.sessions() as session, session.begin():
            case = await queries.visible_case(session, number)
            if case is None:
                raise NotFound(f"公开案例 {number} 不存在", title_en="No such published case")
            row = PublicComment(case_id=case.id, text=mask(text), status="pending", created_at=self.clock())
            session.add(row)
            await session.flush()
            return row

    async def moderate(self, comment_id: int, approve: bool, actor: Actor) -> PublicComment:
        async with self.sessions() as session, session.begin():
            found = await queries.comment_for_update(session, comment_id)
            if found is None:
                raise NotFound(f"评论 {comment_id} 不存在", title_en="No such comment")
            row, case = found
            if row.status != "pending":
                raise Conflict("该评论已审核", code="already_moderated", title_en="Already moderated")
            row.status = "approved" if approve else "rejected"
            row.moderated_at = self.clock()
            row.moderated_by = actor.name or actor.id
            session.add(PublicAudit(work_order_id=case.work_order_id, number=case.number,
                                    action="approve" if approve else "reject", actor_kind=actor.kind.value,
                                    actor_id=actor.id, actor_name=actor.name, at=row.moderated_at,
                                    data={"comment": row.id}))
            return row

    # ------------------------------------------------------------ statistics

    async def stats(self, period: Period, day: date) -> Stats:
        start, end = period_bounds(period, day)
        tz = self.settings.tz
        since = datetime.combine(start, time(), tz).astimezone(UTC)
        until = datetime.combine(end, time(), tz).astimezone(UTC)
        async with self.sessions() as session:
            contacts = await queries.contacts_by_channel(session, since, until)
            subjects = await queries.top_subjects(session, since, until, self.cfg.top_subjects)
            on_time = await queries.on_time_by_department(session, since, until)
            rated = await queries.satisfaction_by_department(session, since, until)
        depts = [DepartmentRate(d, *on_time.get(d, (0, 0)), *rated.get(d, (0, 0)))
                 for d in sorted(set(on_time) | set(rated))]
        return Stats(period, start, end, contacts, subjects, depts)


DISCLOSURE: web.AppKey[Disclosure] = web.AppKey("disclosure")
