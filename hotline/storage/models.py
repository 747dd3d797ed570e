"""Typed SQLAlchemy 2 models: the tables of the core.

One schema for SQLite (the embedded default) and PostgreSQL; migrations live in
`hotline/storage/migrations`. Times are stored in UTC and come back timezone-aware on
both engines (`UTCDateTime`). The event log is append-only: nothing updates or deletes
its rows (PostgreSQL enforces it with a trigger, see the first migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

# BIGINT ids on PostgreSQL, INTEGER on SQLite (only INTEGER PRIMARY KEY is the rowid alias).
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: Json}


class Department(Base):
    """A unit of the three-tier administration (county bureau / town / village).

    Synchronised from config at start-up; config is the source of truth.
    """

    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiKey(Base):
    """A department's API key; only an argon2 hash of the secret part is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class AuthToken(Base):
    """A login: the dashboard's session cookie or an API client's bearer token.

    Tokens are 256-bit random strings, so a plain SHA-256 of them is a safe lookup key.
    """

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Citizen(Base):
    """A person who contacted the hotline, however many channels they used."""

    __tablename__ = "citizens"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    identities: Mapped[list[CitizenIdentity]] = relationship(back_populates="citizen", lazy="raise")


class CitizenIdentity(Base):
    """One way to reach a citizen: a phone number, a WeChat openid, an app user id ..."""

    __tablename__ = "citizen_identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identity_kind_value"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    citizen: Mapped[Citizen] = relationship(back_populates="identities", lazy="raise")


class WorkOrder(Base):
    """An electronic work order (电子工单)."""

    __tablename__ = "work_orders"
    __table_args__ = (
        Index("ix_work_orders_status_id", "status", "id"),
        Index("ix_work_orders_lead_department_id", "lead_department", "id"),
        Index("ix_work_orders_created_at", "created_at"),
        Index("ix_work_orders_reply_by", "reply_by"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(16))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    legacy_line: Mapped[str | None] = mapped_column(String(16))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    lead_department: Mapped[str | None] = mapped_column(String(64))
    sign_by: Mapped[datetime | None]
    reply_by: Mapped[datetime | None]
    resume_status: Mapped[str | None] = mapped_column(String(32))
    pending_extension_days: Mapped[int | None] = mapped_column(Integer)
    rating: Mapped[int | None] = mapped_column(Integer)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Rated <= 2 or "not resolved" and not yet settled: never closed without a supervisor (revision 0007).
    dissatisfied: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    merged_into: Mapped[str | None] = mapped_column(String(20))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)  # AMI Linkedid
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    registered_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="work_order", order_by="Assignment.id", lazy="raise")


class Assignment(Base):
    """A department's share of a work order (主办/协办, or 下派 from a town to a village)."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    department_code: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    parent_department: Mapped[str | None] = mapped_column(String(64))
    sign_by: Mapped[datetime | None]
    reply_by: Mapped[datetime | None]
    return_by: Mapped[datetime | None]
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    work_order: Mapped[WorkOrder] = relationship(back_populates="assignments", lazy="raise")


class OrderEvent(Base):
    """The append-only audit trail of a work order: who, when, what, why."""

    __tablename__ = "order_events"
    __table_args__ = (UniqueConstraint("work_order_id", "seq", name="uq_order_events_order_seq"),
                      # The KPIs count events of a kind over a period (hotline.reports; revision 0007).
                      Index("ix_order_events_at_kind", "at", "kind"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"))
    seq: Mapped[int] = mapped_column(Integer)  # the order's version after the event
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


# The contact's claim: one row per (channel, external id), which makes intake idempotent.
CONTACT_CLAIM = UniqueConstraint("channel", "external_id", name="uq_contacts_channel_external")


class Contact(Base):
    """One inbound contact from any channel; `(channel, external_id)` makes intake idempotent."""

    __tablename__ = "contacts"
    __table_args__ = (CONTACT_CLAIM,)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    sender_kind: Mapped[str | None] = mapped_column(String(32))
    sender: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime]
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Attachment(Base):
    """A file kept with a work order: call recording, photo, fax page, reply document."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # recording | photo | fax | document | voice
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str] = mapped_column(String(1000))  # path under the data dir, or a URL
    created_at: Mapped[datetime]


class DailySequence(Base):
    """The last work-order sequence number handed out on a local date."""

    __tablename__ = "daily_sequences"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class OutboxMessage(Base):
    """A side effect leaving the process (webhook, SMS, WeChat), written in the same
    transaction as the change that caused it and delivered at least once."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_outbox_order", "ordering_key", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)  # the receiver's idempotency key
    kind: Mapped[str] = mapped_column(String(32))  # webhook | sms | wechat | ...
    target: Mapped[str] = mapped_column(String(300))  # department code, phone number, openid
    event: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    ordering_key: Mapped[str | None] = mapped_column(String(100))  # deliveries with one key go in order
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
