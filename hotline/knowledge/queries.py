"""Every SQL statement of the knowledge module."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, literal_column, or_, select, table, text, update

from hotline.knowledge.models import (
    SEARCH_VECTOR,
    KnowledgeCitation,
    KnowledgeDuplicateCheck,
    KnowledgeEntry,
    KnowledgeEntryVersion,
    KnowledgeHotspotAlert,
    KnowledgeRoutingModel,
)
from hotline.storage.models import WorkOrder
from hotline.storage.paging import newest_first, page
from hotline.storage.queries import insert_for

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

_SAFE = re.compile(r"^\w+$")


async def entry_by_id(session: AsyncSession, entry_id: int, *, lock: bool = False) -> KnowledgeEntry | None:
    q = select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).scalar_one_or_none()


async def entries_by_key(session: AsyncSession, keys: Sequence[str]) -> dict[str, KnowledgeEntry]:
    out: dict[str, KnowledgeEntry] = {}
    for i in range(0, len(keys), 500):
        rows = await session.execute(select(KnowledgeEntry).where(KnowledgeEntry.key.in_(keys[i:i + 500])))
        out.update({e.key: e for e in rows.scalars()})
    return out


async def max_key_number(session: AsyncSession, prefix: str) -> int:
    keys = (await session.execute(select(KnowledgeEntry.key).where(KnowledgeEntry.key.like(f"{prefix}%")))).scalars()
    return max((int(k[len(prefix):]) for k in keys if k[len(prefix):].isdigit()), default=0)


async def list_entries(session: AsyncSession, *, cursor: str | None, limit: int, status: str | None,
                       department: str | None, tag: str | None) -> tuple[list[KnowledgeEntry], str | None]:
    q = select(KnowledgeEntry)
    if status:
        q = q.where(KnowledgeEntry.status == status)
    if department:
        q = q.where(KnowledgeEntry.department == department)
    rows = list((await session.execute(newest_first(q, KnowledgeEntry.id, cursor, limit if not tag else 10_000)))
                .scalars())
    if tag:  # tags are a JSON list on both engines: filtered here, the lists are short
        rows = [e for e in rows if tag in (e.tags or [])][:limit + 1]
    return page(rows, limit, lambda e: e.id)


async def all_entries(session: AsyncSession, *, status: str | None = "active") -> list[KnowledgeEntry]:
    q = select(KnowledgeEntry).order_by(KnowledgeEntry.key)
    if status:
        q = q.where(KnowledgeEntry.status == status)
    return list((await session.execute(q)).scalars())


async def versions_of(session: AsyncSession, entry_id: int) -> list[KnowledgeEntryVersion]:
    q = select(KnowledgeEntryVersion).where(KnowledgeEntryVersion.entry_id == entry_id) \
        .order_by(KnowledgeEntryVersion.version)
    return list((await session.execute(q)).scalars())


def add_version(session: AsyncSession, row: KnowledgeEntryVersion) -> None:
    session.add(row)


async def index_entry(session: AsyncSession, entry: KnowledgeEntry) -> None:
    """Keep SQLite's FTS5 table in step with the entry (PostgreSQL indexes the columns
    themselves). A retired entry leaves the index."""
    if session.get_bind().dialect.name != "sqlite":
        return
    await session.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), {"id": entry.id})
    if entry.status == "active":
        await session.execute(text("INSERT INTO knowledge_fts (rowid, question, body) VALUES (:id, :q, :b)"),
                              {"id": entry.id, "q": entry.terms_question, "b": entry.terms_body})


async def index_entries(session: AsyncSession, entries: Sequence[KnowledgeEntry]) -> None:
    """`index_entry` for many at once (an import)."""
    if session.get_bind().dialect.name != "sqlite" or not entries:
        return
    ids = [{"id": e.id} for e in entries]
    await session.execute(text("DELETE FROM knowledge_fts WHERE rowid = :id"), ids)
    rows = [{"id": e.id, "q": e.terms_question, "b": e.terms_body} for e in entries if e.status == "active"]
    if rows:
        await session.execute(text("INSERT INTO knowledge_fts (rowid, question, body) VALUES (:id, :q, :b)"), rows)


def _valid(today: date) -> list[ColumnElement[bool]]:
    e = KnowledgeEntry
    return [e.status == "active", or_(e.valid_from.is_(None), e.valid_from <= today),
            or_(e.valid_to.is_(None), e.valid_to >= today)]


async def search(session: AsyncSession, terms: Sequence[str], today: date, *, limit: int,
                 public_only: bool = False, department: str | None = None) -> list[tuple[KnowledgeEntry, float]]:
    """Entries valid today matching any term, best first, with the engine's score (higher
    is better): BM25 on SQLite's FTS5 (the question's terms weigh 5×), `ts_rank` with the
    question's terms at weight A on PostgreSQL."""
    terms = [t for t in terms if _SAFE.match(t)]
    if not terms:
        return []
    where = _valid(today)
    if public_only:
        where.append(KnowledgeEntry.public.is_(True))
    if department:
        where.append(KnowledgeEntry.department == department)
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(f'"{t}"' for t in terms)
        # bm25's weights follow the FTS5 columns: question, body. Lower is better.
        score: ColumnElement[float] = literal_column("bm25(knowledge_fts, 5.0, 1.0)")
        q = (select(KnowledgeEntry, score.label("score"))
             .select_from(table("knowledge_fts"))
             .join(KnowledgeEntry, KnowledgeEntry.id == literal_column("knowledge_fts.rowid"))
             .where(text("knowledge_fts MATCH :match").bindparams(match=match), *where)
             .order_by(score).limit(limit))
        return [(e, -float(s)) for e, s in (await session.execute(q)).all()]
    tsq = func.to_tsquery("simple", " | ".join(f"'{t}'" for t in terms))
    rank = func.ts_rank(SEARCH_VECTOR, tsq)
    q = (select(KnowledgeEntry, rank.label("score")).where(SEARCH_VECTOR.op("@@")(tsq), *where)
         .order_by(rank.desc(), KnowledgeEntry.id).limit(limit))
    return [(e, float(s)) for e, s in (await session.execute(q)).all()]


async def like_scan(session: AsyncSession, words: Sequence[str], today: date, *, limit: int) -> list[KnowledgeEntry]:
    """The baseline the benchmark measures search against: a plain LIKE over the texts,
    ranked by how many of the words an entry holds (so every row is looked at, as a
    search that ranks must)."""
    if not words:
        return []
    e = KnowledgeEntry
    hits = [case((or_(e.question.like(f"%{w}%"), e.answer.like(f"%{w}%")), 1), else_=0) for w in words]
    score = sum(hits[1:], hits[0])
    q = select(e).where(score > 0, *_valid(today)).order_by(score.desc(), e.id).limit(limit)
    return list((await session.execute(q)).scalars())


def add_citation(session: AsyncSession, row: KnowledgeCitation) -> None:
    session.add(row)


async def count_citation(session: AsyncSession, entry_id: int) -> None:
    await session.execute(update(KnowledgeEntry).where(KnowledgeEntry.id == entry_id)
                          .values(cited=KnowledgeEntry.cited + 1))


async def citations_of_order(session: AsyncSession, work_order_id: int) -> list[KnowledgeCitation]:
    q = select(KnowledgeCitation).where(KnowledgeCitation.work_order_id == work_order_id)
    return list((await session.execute(q)).scalars())


async def public_entries(session: AsyncSession, today: date, *, limit: int) -> list[KnowledgeEntry]:
    q = select(KnowledgeEntry).where(KnowledgeEntry.public.is_(True), *_valid(today)) \
        .order_by(KnowledgeEntry.cited.desc(), KnowledgeEntry.key).limit(limit)
    return list((await session.execute(q)).scalars())


# Orders whose lead department saw them through: what routing assist learns from.
HANDLED = ("replied", "follow_up", "closed")


async def handled_orders(session: AsyncSession, *, limit: int) -> list[WorkOrder]:
    o = WorkOrder
    q = select(o).where(o.status.in_(HANDLED), o.lead_department.is_not(None)).order_by(o.id.desc()).limit(limit)
    return list((await session.execute(q)).scalars())


def add_routing_model(session: AsyncSession, row: KnowledgeRoutingModel) -> None:
    session.add(row)


async def latest_routing_model_id(session: AsyncSession) -> int | None:
    return (await session.execute(select(func.max(KnowledgeRoutingModel.id)))).scalar_one_or_none()


async def routing_model(session: AsyncSession, model_id: int) -> KnowledgeRoutingModel | None:
    return await session.get(KnowledgeRoutingModel, model_id)


async def order_by_number(session: AsyncSession, number: str) -> WorkOrder | None:
    return (await session.execute(select(WorkOrder).where(WorkOrder.number == number))).scalar_one_or_none()


TERMINAL_STATUSES = ("closed", "merged", "invalid")


async def nearby_open_orders(session: AsyncSession, areas: Sequence[str], since: datetime, until: datetime, *,
                             exclude: int, subject: str | None, limit: int) -> list[Any]:
    """Open orders of these areas (or of none: the text may place them) created in the window,
    of the same subject or of none (the only ones that can match): the columns the
    duplicate check reads, not whole orders."""
    o = WorkOrder
    q = (select(o.number, o.created_at, o.category, o.subject, o.area, o.address, o.title, o.description)
         .where(or_(o.area.in_(areas), o.area.is_(None)) if areas else o.area.is_(None),
                o.status.not_in(TERMINAL_STATUSES), and_(o.created_at >= since, o.created_at <= until),
                o.id != exclude)
         .order_by(o.id.desc()).limit(limit))
    if subject is not None:
        q = q.where(or_(o.subject == subject, o.subject.is_(None)))
    return list((await session.execute(q)).all())


async def merged_children(session: AsyncSession, number: str) -> list[str]:
    q = select(WorkOrder.number).where(WorkOrder.merged_into == number, WorkOrder.status == "merged") \
        .order_by(WorkOrder.id)
    return list((await session.execute(q)).scalars())



async def orders_created_between(session: AsyncSession, since: datetime, until: datetime, *, limit: int,
                                 areas: Sequence[str] | None = None, live_only: bool = False) -> list[Any]:
    """Orders created in [since, until): the hotspot detector's window (without the merged
    and invalid ones) and baseline (`areas`: those places, or none given); the columns it reads."""
    o = WorkOrder
    q = select(o.id, o.number, o.created_at, o.area, o.address, o.title, o.description, o.subject, o.category) \
        .where(o.created_at >= since, o.created_at < until)
    if live_only:
        q = q.where(o.status.not_in(("merged", "invalid")))
    if areas is not None:
        q = q.where(or_(o.area.in_(areas), o.area.is_(None)))
    return list((await session.execute(q.order_by(o.id.desc()).limit(limit))).all())


async def texts_created_between(session: AsyncSession, since: datetime, until: datetime, *,
                                limit: int) -> list[Any]:
    """The texts of the orders created in [since, until), newest first: the text hotspots' baseline."""
    o = WorkOrder
    q = select(o.title, o.description).where(o.created_at >= since, o.created_at < until)
    return list((await session.execute(q.order_by(o.id.desc()).limit(limit))).all())


async def open_alert(session: AsyncSession, key: str) -> KnowledgeHotspotAlert | None:
    q = select(KnowledgeHotspotAlert).where(KnowledgeHotspotAlert.key == key, KnowledgeHotspotAlert.status == "open")
    return (await session.execute(q)).scalar_one_or_none()


async def alert_by_id(session: AsyncSession, alert_id: int, *, lock: bool = False) -> KnowledgeHotspotAlert | None:
    q = select(KnowledgeHotspotAlert).where(KnowledgeHotspotAlert.id == alert_id)
    if lock:
        q = q.with_for_update()
    return (await session.execute(q)).scalar_one_or_none()


async def alerts(session: AsyncSession, status: str | None, limit: int) -> list[KnowledgeHotspotAlert]:
    q = select(KnowledgeHotspotAlert)
    if status:
        q = q.where(KnowledgeHotspotAlert.status == status)
    return list((await session.execute(q.order_by(KnowledgeHotspotAlert.id.desc()).limit(limit))).scalars())


def add_alert(session: AsyncSession, row: KnowledgeHotspotAlert) -> None:
    session.add(row)


async def orders_by_numbers(session: AsyncSession, numbers: Sequence[str]) -> list[WorkOrder]:
    out: list[WorkOrder] = []
    for i in range(0, len(numbers), 500):
        q = select(WorkOrder).where(WorkOrder.number.in_(numbers[i:i + 500]))
        out += list((await session.execute(q)).scalars())
    return out


# ---------------------------------------------------------------- duplicates at intake


async def unchecked_orders(session: AsyncSession, since: datetime, *, limit: int) -> list[Any]:
    """New orders (created since `since`) whose duplicate check is not recorded yet, oldest
    first: the columns the check reads."""
    o, c = WorkOrder, KnowledgeDuplicateCheck
    q = (select(o.id, o.number, o.created_at, o.category, o.subject, o.area, o.address, o.title, o.description)
         .where(o.created_at >= since, ~select(c.id).where(c.work_order_id == o.id).exists())
         .order_by(o.id).limit(limit))
    return list((await session.execute(q)).all())


async def record_checks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One row per order; a row another process wrote first stays (the same facts, the same answer)."""
    if rows:
        await session.execute(insert_for(session, KnowledgeDuplicateCheck).values(list(rows))
                              .on_conflict_do_nothing(index_elements=["work_order_id"]))


async def duplicate_check(session: AsyncSession, number: str) -> tuple[int, KnowledgeDuplicateCheck | None] | None:
    """The order's id and its recorded check (None: not checked yet); None: no such order."""
    row = (await session.execute(select(WorkOrder.id, KnowledgeDuplicateCheck)
                                 .outerjoin(KnowledgeDuplicateCheck, KnowledgeDuplicateCheck.work_order_id == WorkOrder.id)
                                 .where(WorkOrder.number == number))).first()
    return None if row is None else (row[0], row[1])
