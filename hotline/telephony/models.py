"""Telephony tables: one row per ended call, and the callback tasks (回拨)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId

OPEN_TASK = ("open", "calling")


class CallRecord(Base):
    """A call as the tracker saw it end (通话记录), keyed by its AMI Linkedid."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_started_at", "started_at"), Index("ix_calls_caller", "caller"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    caller: Mapped[str] = mapped_column(String(32), default="")
    line: Mapped[str] = mapped_column(String(16), default="")
    legacy_line: Mapped[str | None] = mapped_column(String(16))
    queue: Mapped[str | None] = mapped_column(String(64))
    agent_extension: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime]
    wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    recording: Mapped[str | None] = mapped_column(String(500))
    transferred_to: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[int | None] = mapped_column(Integer)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"), index=True)
    callback_task_id: Mapped[int | None] = mapped_column(ForeignKey("callback_tasks.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallbackTask(Base):
    """回拨任务: a citizen who called and was not reached is called back.

    At most one open task per number (a partial unique index): a second missed call
    from the same number counts on the open task instead of making another.
    """

    __tablename__ = "callback_tasks"
    __table_args__ = (
        Index("uq_callback_open_phone", "phone", unique=True,
              postgresql_where=text("status IN ('open', 'calling')"),
              sqlite_where=text("status IN ('open', 'calling')")),
        Index("ix_callback_status_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    reason: Mapped[str] = mapped_column(String(16))  # abandoned | overflowed | after_hours
    status: Mapped[str] = mapped_column(String(16))  # open | calling | done | failed | cancelled
    missed_calls: Mapped[int] = mapped_column(Integer, default=1)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_call_id: Mapped[str] = mapped_column(String(64))
    last_call_id: Mapped[str] = mapped_column(String(64))
    last_call_at: Mapped[datetime]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str | None] = mapped_column(String(32))  # reached | called_again | unreachable | ...
    result_call_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
