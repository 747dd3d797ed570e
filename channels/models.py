"""The channels' own tables: SMS opt-outs (退订) and the outbound SMS log.

Inbound contacts live in the core's `contacts` table (idempotent on channel +
external id); these two only hold what the core has no place for.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId


class SmsOptOut(Base):
    """A number that answered STOP/退订: no notices go to it until START/订阅."""

    __tablename__ = "sms_opt_outs"
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    keyword: Mapped[str] = mapped_column(String(32))
    opted_out_at: Mapped[datetime]


class SmsMessage(Base):
    """One outbound SMS handed to Twilio, and what Twilio's status callbacks said since."""

    __tablename__ = "sms_messages"
    __table_args__ = (Index("ix_sms_messages_sid", "message_sid", unique=True),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)  # the outbox row's id
    message_sid: Mapped[str | None] = mapped_column(String(64))
    to: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))  # queued, sent, delivered, failed, undelivered, skipped
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
