"""The disclosure tables (政务公开): what was published, who did it, and citizens' comments.

`public_cases` keeps the masked text as it was previewed and approved — never the order's
raw text — so a later edit of the order cannot leak through a page that was already
reviewed. The public reads only rows whose order is still closed and not confidential
(`queries.visible`): a reopened or re-classified order leaves the public pages by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId


class PublicCase(Base):
    __tablename__ = "public_cases"
    __table_args__ = (Index("ix_public_cases_published_at", "published_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    question: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(300))
    asked_at: Mapped[datetime]
    closed_at: Mapped[datetime]
    rating: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(16))  # manual | category
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None]


class PublicAudit(Base):
    """Who published, withdrew or moderated what (append-only)."""

    __tablename__ = "public_audit"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(16))  # publish | withdraw | approve | reject
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PublicComment(Base):
    __tablename__ = "public_comments"
    __table_args__ = (Index("ix_public_comments_status", "status", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("public_cases.id"), index=True)
    text: Mapped[str] = mapped_column(Text)  # masked on arrival: a citizen may write a phone number
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    created_at: Mapped[datetime]
    moderated_at: Mapped[datetime | None]
    moderated_by: Mapped[str | None] = mapped_column(String(100))


class MediaKey(Base):
    """A press partner's key (媒体联动): the partner's feed of published cases and statistics
    (`hotline.public.keys`: only a SHA-256 of the random secret is kept)."""

    __tablename__ = "public_media_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    partner: Mapped[str] = mapped_column(String(64), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


# ---------------------------------------------------------------- 便民服务企业库

class Company(Base):
    """A convenience-service company (加盟商). `status`: active | warned | suspended (from
    referrals, by the monthly assessment or by hand)."""

    __tablename__ = "public_companies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    service_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)  # town / village codes it serves
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    hours: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    price_guidance: Mapped[str] = mapped_column(Text, default="")
    member: Mapped[bool] = mapped_column(Boolean, default=True)  # 加盟会员
    status: Mapped[str] = mapped_column(String(16), default="active")
    failed_months: Mapped[int] = mapped_column(Integer, default=0)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # Signs the webhooks to the company; a secret the hotline must read back, like a department's.
    webhook_secret: Mapped[str] = mapped_column(String(100))
    key_prefix: Mapped[str | None] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ServiceRequest(Base):
    """A convenience request handed to a company: sent → confirmed → done, then rated."""

    __tablename__ = "public_service_requests"
    __table_args__ = (Index("ix_public_service_requests_company_created", "company_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("public_companies.id"))
    service_type: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    citizen_name: Mapped[str] = mapped_column(String(100), default="")
    citizen_phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300), default="")
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | confirmed | done
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(Integer)
    complaint: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime | None]


class CompanyAssessment(Base):
    """One company's month (加盟商考评), and what it led to."""

    __tablename__ = "public_company_assessments"
    __table_args__ = (UniqueConstraint("company_id", "month"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("public_companies.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    requests: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer)
    response_minutes: Mapped[float | None] = mapped_column(Float)
    complaints: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[int] = mapped_column(Integer)
    rating: Mapped[float | None] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(16))  # ok | not_judged | warned | suspended
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
