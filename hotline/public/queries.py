"""Every SQL statement of disclosure (政务公开)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from hotline.domain.vocabulary import SATISFIED_MIN, AssignmentRole, AssignmentStatus, Channel, Status
from hotline.public.models import (
    Company,
    CompanyAssessment,
    MediaKey,
    PublicAudit,
    PublicCase,
    PublicComment,
    ServiceRequest,
)
from hotline.storage.models import Assignment, Citizen, Contact, OrderEvent, WorkOrder
from hotline.storage.paging import newest_first, page

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession


async def order_for_case(session: AsyncSession, number: str) -> WorkOrder | None:
    q = select(WorkOrder).where(WorkOrder.number == number).options(selectinload(WorkOrder.assignments))
    return (await session.execute(q)).scalar_one_or_none()


async def direct_answers(session: AsyncSession, work_order_id: int) -> list[str]:
    """The agent's answers of 直接办结, oldest first."""
    q = (select(OrderEvent.data).where(OrderEvent.work_order_id == work_order_id,
                                       OrderEvent.kind == "resolved_directly").order_by(OrderEvent.seq))
    return [str((d or {}).get("answer") or "") for d in (await session.execute(q)).scalars()]


async def citizen_name(session: AsyncSession, citizen_id: int | None) -> str | None:
    if citizen_id is None:
        return None
    return (await session.execute(select(Citizen.name).where(Citizen.id == citizen_id))).scalar_one_or_none()


def lead_replies(order: WorkOrder) -> list[str]:
    """The lead department's results (办理结果), in the order they were given."""
    rows = sorted((a for a in order.assignments if a.role == AssignmentRole.LEAD.value and a.result
                   and a.status == AssignmentStatus.REPLIED.value), key=lambda a: a.replied_at or a.dispatched_at)
    return [a.result or "" for a in rows[-1:]]


async def case_of(session: AsyncSession, work_order_id: int) -> PublicCase | None:
    return (await session.execute(select(PublicCase).where(PublicCase.work_order_id == work_order_id))
            ).scalar_one_or_none()


def _visible() -> ColumnElement[bool]:
    """What the public may read: published, not withdrawn, its order still closed and not confidential."""
    return and_(PublicCase.withdrawn_at.is_(None), WorkOrder.status == Status.CLOSED.value,
                WorkOrder.confidential.is_(False))


async def visible_page(session: AsyncSession, cursor: str | None, limit: int) -> tuple[list[PublicCase], str | None]:
    q = select(PublicCase).join(WorkOrder, WorkOrder.id == PublicCase.work_order_id).where(_visible())
    rows = list((await session.execute(newest_first(q, PublicCase.id, cursor, limit))).scalars())
    return page(rows, limit, lambda r: r.id)


async def visible_case(session: AsyncSession, number: str) -> PublicCase | None:
    q = (select(PublicCase).join(WorkOrder, WorkOrder.id == PublicCase.work_order_id)
         .where(PublicCase.number == number, _visible()))
    return (await session.execute(q)).scalar_one_or_none()


async def approved_comments(session: AsyncSession, case_id: int) -> list[PublicComment]:
    q = (select(PublicComment).where(PublicComment.case_id == case_id, PublicComment.status == "approved")
         .order_by(PublicComment.id))
    return list((await session.execute(q)).scalars())


async def comments_page(session: AsyncSession, status: str, cursor: str | None, limit: int
                        ) -> tuple[list[tuple[PublicComment, str]], str | None]:
    q = (select(PublicComment, PublicCase.number).join(PublicCase, PublicCase.id == PublicComment.case_id)
         .where(PublicComment.status == status))
    rows = [(c, n) for c, n in (await session.execute(newest_first(q, PublicComment.id, cursor, limit))).all()]
    return page(rows, limit, lambda r: r[0].id)


async def comment_for_update(session: AsyncSession, comment_id: int) -> tuple[PublicComment, PublicCase] | None:
    q = (select(PublicComment, PublicCase).join(PublicCase, PublicCase.id == PublicComment.case_id)
         .where(PublicComment.id == comment_id).with_for_update(of=PublicComment))
    row = (await session.execute(q)).first()
    return (row[0], row[1]) if row else None


async def audit_page(session: AsyncSession, number: str | None, cursor: str | None, limit: int
                     ) -> tuple[list[PublicAudit], str | None]:
    q = select(PublicAudit)
    if number:
        q = q.where(PublicAudit.number == number)
    rows = list((await session.execute(newest_first(q, PublicAudit.id, cursor, limit))).scalars())
    return page(rows, limit, lambda r: r.id)


# ---------------------------------------------------------------- statistics

async def contacts_by_channel(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    q = (select(Contact.channel, func.count()).where(Contact.received_at >= start, Contact.received_at < end)
         .group_by(Contact.channel))
    return {c: int(n) for c, n in (await session.execute(q)).all()}


async def top_subjects(session: AsyncSession, start: datetime, end: datetime, limit: int) -> list[tuple[str, int]]:
    n = func.count().label("n")
    q = (select(WorkOrder.subject, n).where(WorkOrder.created_at >= start, WorkOrder.created_at < end,
                                           WorkOrder.subject.is_not(None))
         .group_by(WorkOrder.subject).order_by(n.desc(), WorkOrder.subject).limit(limit))
    return [(str(s), int(c)) for s, c in (await session.execute(q)).all()]


async def on_time_by_department(session: AsyncSession, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """department → (lead replies in the period, of which by the deadline)."""
    on_time = func.sum(case((or_(Assignment.reply_by.is_(None), Assignment.replied_at <= Assignment.reply_by), 1),
                            else_=0))
    q = (select(Assignment.department_code, func.count(), on_time)
         .where(Assignment.role == AssignmentRole.LEAD.value, Assignment.replied_at >= start,
                Assignment.replied_at < end)
         .group_by(Assignment.department_code))
    return {d: (int(n), int(k or 0)) for d, n, k in (await session.execute(q)).all()}


async def satisfaction_by_department(session: AsyncSession, start: datetime, end: datetime
                                     ) -> dict[str, tuple[int, int]]:
    """department → (ratings given in the period, of which satisfied), from the rating events
    (`followed_up` carries `rating`, a citizen's `rated` carries `level`)."""
    rating = func.coalesce(OrderEvent.data["rating"].as_integer(), OrderEvent.data["level"].as_integer())
    satisfied = func.sum(case((rating >= SATISFIED_MIN, 1), else_=0))
    q = (select(WorkOrder.lead_department, func.count(), satisfied)
         .join(WorkOrder, WorkOrder.id == OrderEvent.work_order_id)
         .where(OrderEvent.kind.in_(("rated", "followed_up")), OrderEvent.at >= start, OrderEvent.at < end,
                rating.is_not(None), WorkOrder.lead_department.is_not(None))
         .group_by(WorkOrder.lead_department))
    return {str(d): (int(n), int(k or 0)) for d, n, k in (await session.execute(q)).all()}


async def number_of_case(session: AsyncSession, case_id: int) -> str:
    return str((await session.execute(select(PublicCase.number).where(PublicCase.id == case_id))).scalar_one())


# ---------------------------------------------------------------- media linkage

async def live_media_key(session: AsyncSession, prefix: str) -> MediaKey | None:
    q = select(MediaKey).where(MediaKey.prefix == prefix, MediaKey.revoked_at.is_(None))
    return (await session.execute(q)).scalar_one_or_none()


async def media_key(session: AsyncSession, key_id: int) -> MediaKey | None:
    return await session.get(MediaKey, key_id)


async def media_source(session: AsyncSession, work_order_id: int) -> dict[str, Any] | None:
    """What the first media contact of an order recorded (partner, outlet, programme), if any."""
    q = (select(Contact.raw).where(Contact.work_order_id == work_order_id, Contact.channel == Channel.MEDIA.value)
         .order_by(Contact.id).limit(1))
    raw = (await session.execute(q)).scalar_one_or_none()
    return dict(raw) if raw is not None else None


# ---------------------------------------------------------------- 便民服务企业库

async def company(session: AsyncSession, code: str, *, for_update: bool = False) -> Company | None:
    q = select(Company).where(Company.code == code)
    return (await session.execute(q.with_for_update() if for_update else q)).scalar_one_or_none()


async def company_by_key(session: AsyncSession, prefix: str) -> Company | None:
    return (await session.execute(select(Company).where(Company.key_prefix == prefix))).scalar_one_or_none()


async def companies(session: AsyncSession, *, referable: bool = False) -> list[Company]:
    """Every company (a county's directory is hundreds of rows: types and distance are
    filtered in Python, the same on both engines); `referable`: not suspended."""
    q = select(Company).order_by(Company.code)
    if referable:
        q = q.where(Company.status != "suspended")
    return list((await session.execute(q)).scalars())


async def service_request(session: AsyncSession, request_id: int, company_id: int | None = None
                          ) -> ServiceRequest | None:
    q = select(ServiceRequest).where(ServiceRequest.id == request_id).with_for_update()
    if company_id is not None:
        q = q.where(ServiceRequest.company_id == company_id)
    return (await session.execute(q)).scalar_one_or_none()


async def requests_between(session: AsyncSession, start: datetime, end: datetime) -> list[ServiceRequest]:
    q = select(ServiceRequest).where(ServiceRequest.created_at >= start, ServiceRequest.created_at < end)
    return list((await session.execute(q)).scalars())


async def assessment(session: AsyncSession, company_id: int, month: str) -> CompanyAssessment | None:
    q = select(CompanyAssessment).where(CompanyAssessment.company_id == company_id, CompanyAssessment.month == month)
    return (await session.execute(q)).scalar_one_or_none()


async def assessments(session: AsyncSession, month: str) -> list[tuple[CompanyAssessment, str]]:
    q = (select(CompanyAssessment, Company.code).join(Company, Company.id == CompanyAssessment.company_id)
         .where(CompanyAssessment.month == month).order_by(Company.code))
    return [(a, c) for a, c in (await session.execute(q)).all()]


async def order_id(session: AsyncSession, number: str) -> int | None:
    return (await session.execute(select(WorkOrder.id).where(WorkOrder.number == number))).scalar_one_or_none()
