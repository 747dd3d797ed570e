"""Reports' one table: the supervisors' annotations of a month's assessment (考评批注)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId


class AssessmentNote(Base):
    __tablename__ = "reports_assessment_notes"
    __table_args__ = (Index("ix_reports_assessment_notes_month", "month", "department"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    department: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
