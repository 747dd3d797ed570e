"""Dispatch's tables: the SLA timers (时限提醒), and an index its outbox claims need.

Timers were a core table (`timers`, created by the core's first revision); revision
0005 of dispatch's branch moved them here as `dispatch_timers`, rows and all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId, OutboxMessage


class Timer(Base):
    """A deadline that will fire (催办, 超期, 升级, 回访): a row, never a sleeping coroutine."""

    __tablename__ = "dispatch_timers"
    __table_args__ = (
        # Only pending timers are ever scanned: keep the index to those rows.
        Index("ix_dispatch_timers_due_pending", "due_at",
              postgresql_where=text("fired_at IS NULL AND cancelled_at IS NULL"),
              sqlite_where=text("fired_at IS NULL AND cancelled_at IS NULL")),
        # A department's notices: fired timers of its assignments.
        Index("ix_dispatch_timers_assignment_id", "assignment_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DispatchHold(Base):
    """An order a routing rule matched that auto-dispatch could not send (no category, a
    department missing from the directory...): why, for the agents' inbox. The order
    leaves the inbox when it leaves 登记 (registered), whoever dispatches it."""

    __tablename__ = "dispatch_holds"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    reason_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    department: Mapped[str] = mapped_column(String(64))  # where the rule would send it
    rule: Mapped[int] = mapped_column(Integer)  # 1-based position in config `routing`
    created_at: Mapped[datetime]


# The claim scans undelivered messages in id order; delivered ones (nearly all, after a
# while) stay out of the index.
Index("ix_outbox_undelivered", OutboxMessage.id,
      postgresql_where=text("status IN ('pending', 'delivering')"),
      sqlite_where=text("status IN ('pending', 'delivering')"))
