"""The desk's table: who is working a written contact now (认领), so two agents never work
the same one. One row per order at most; a claim lapses after `desk.claim_minutes` (an agent
who walked away does not block the contact) and goes when the order leaves 登记."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId


class DeskClaim(Base):
    __tablename__ = "desk_claims"
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_orders.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    user_name: Mapped[str] = mapped_column(String(100), default="")
    claimed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
