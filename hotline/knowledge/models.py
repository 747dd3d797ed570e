"""The knowledge module's tables (knowledge_*).

An entry keeps its current text in `knowledge_entries` and every saved version in
`knowledge_entry_versions` (who changed it, who approved it). Its search terms are stored
segmented (`terms_question`, `terms_body`: space-joined jieba terms), so the database's
own full-text search can index them: an FTS5 table `knowledge_fts` on SQLite (made by the
migration, kept in step by `queries.index_entry`), a GIN index over the `simple` tsvector
of the two columns on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.storage.models import Base, BigId, Json

# SQLite's FTS5 table and its shadow tables are made by the migration with SQL of their own;
# the models do not declare them (tests/integration/test_migrations.py leaves them out).
FTS_TABLE = "knowledge_fts"
Base.metadata.info.setdefault("unmanaged_tables", set()).update(
    {FTS_TABLE, *(f"{FTS_TABLE}_{s}" for s in ("data", "idx", "content", "docsize", "config"))})


class KnowledgeEntry(Base):
    """One question and its approved answer (知识条目)."""

    __tablename__ = "knowledge_entries"
    # PostgreSQL: the question weighs more (A) than the answer, tags and source (B).
    __table_args__ = (Index("ix_knowledge_entries_search", text(
        "(setweight(to_tsvector('simple', terms_question), 'A') || setweight(to_tsvector('simple', terms_body), 'B'))"),
        postgresql_using="gin").ddl_if(dialect="postgresql"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # 编号: what import/export match on
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    policy_source: Mapped[str] = mapped_column(String(500), default="")  # 政策依据
    department: Mapped[str | None] = mapped_column(String(64))  # the department that answers for it
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    tags: Mapped[list[str]] = mapped_column(Json, default=list)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown on the portal's FAQ
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | retired
    version: Mapped[int] = mapped_column(Integer, default=1)
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cited: Mapped[int] = mapped_column(Integer, default=0)  # orders answered with it
    terms_question: Mapped[str] = mapped_column(Text, default="")
    terms_body: Mapped[str] = mapped_column(Text, default="")


# What the index above covers, for the queries (the same expression, or PostgreSQL will not use it).
SEARCH_VECTOR: ColumnElement[Any] = literal_column(
    "setweight(to_tsvector('simple', terms_question), 'A') || setweight(to_tsvector('simple', terms_body), 'B')")


class KnowledgeEntryVersion(Base):
    """A saved version of an entry, as it was: the version history (修订记录)."""

    __tablename__ = "knowledge_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_knowledge_entry_versions_entry_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    change: Mapped[str] = mapped_column(String(16))  # created | updated | retired | imported
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[datetime]


class KnowledgeCitation(Base):
    """An order answered with an entry (直接办结，引用知识条目), in the order's transaction."""

    __tablename__ = "knowledge_citations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    cited_by: Mapped[str] = mapped_column(String(64))
    cited_at: Mapped[datetime]


class KnowledgeRoutingModel(Base):
    """A trained routing-assist model and its held-out figures (`hotline knowledge train-routing`).
    The newest row is the one in use; older ones stay for comparison."""

    __tablename__ = "knowledge_routing_models"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trained_at: Mapped[datetime]
    trained_on: Mapped[int] = mapped_column(Integer)
    tested_on: Mapped[int] = mapped_column(Integer)
    departments: Mapped[int] = mapped_column(Integer)
    top1: Mapped[float] = mapped_column(Float)
    top3: Mapped[float] = mapped_column(Float)
    rules_top1: Mapped[float] = mapped_column(Float)  # the routing rules alone on the same held-out orders
    source: Mapped[str] = mapped_column(String(16))  # orders | generated
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class KnowledgeHotspotAlert(Base):
    """A hotspot alert (热点预警): one per burst. While it is open the detector only updates it."""

    __tablename__ = "knowledge_hotspot_alerts"
    __table_args__ = (
        # One open alert per place × matter, whichever process's detector sees the burst first.
        Index("uq_knowledge_hotspot_alerts_open_key", "key", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | merged | closed
    count: Mapped[int] = mapped_column(Integer)
    usual: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    numbers: Mapped[list[str]] = mapped_column(Json, default=list)
    parent_number: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class KnowledgeDuplicateCheck(Base):
    """An order's duplicate candidates as found when it came in (受理时的疑似重复): one row per
    new order, written after intake's commit by the duplicate check (`intake_check.py`), so
    the acknowledgement never waits for it. `candidates` lists the older orders it may
    repeat (number, score, similarity, place, reasons); empty when none."""

    __tablename__ = "knowledge_duplicate_checks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    number: Mapped[str] = mapped_column(String(20))
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    checked_at: Mapped[datetime]
