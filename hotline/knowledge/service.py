"""The knowledge base's use cases: write entries (each save a version), import and export,
search and suggest. Handlers and the CLI call these; SQL is in `queries`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.errors import Conflict, NotFound, ValidationFailed
from hotline.knowledge import queries
from hotline.knowledge.models import KnowledgeEntry, KnowledgeEntryVersion
from hotline.knowledge.schemas import EntryIn, EntryOut, Hit, ImportOut, VersionOut
from hotline.knowledge.segment import joined

if TYPE_CHECKING:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from hotline.clock import Clock
    from hotline.knowledge.assist import RoutingAssist
    from hotline.knowledge.config import KnowledgeConfig
    from hotline.knowledge.intake_check import DuplicateCheck
    from hotline.knowledge.merging import Merging
    from hotline.knowledge.segment import Segmenter
    from hotline.knowledge.watch import HotspotWatch
    from hotline.settings import Settings
    from hotline.storage.engine import SessionFactory

KEY_PREFIX = "KB"
Progress = Callable[[int, int], None]


@dataclass
class KnowledgeBase:
    settings: Settings
    cfg: KnowledgeConfig
    segmenter: Segmenter
    sessions: SessionFactory
    clock: Clock
    assist: RoutingAssist | None = None  # routing assist, found by the CLI through the knowledge base
    merging: Merging | None = None  # 并单, likewise
    hotspots: HotspotWatch | None = None  # 热点预警, likewise
    duplicate_check: DuplicateCheck | None = None  # 受理时查重, likewise

    # ------------------------------------------------------------ helpers
    def today(self) -> date:
        """The county's date (valid_from/valid_to are local dates)."""
        tz: ZoneInfo = self.settings.tz
        return self.clock().astimezone(tz).date()

    def department_name(self, code: str | None) -> str | None:
        if code is None:
            return None
        d = next((d for d in self.settings.departments if d.code == code), None)
        return d.name if d else code

    def department_code(self, given: str) -> str | None:
        """A department named by its code or its name (an import's 部门 column)."""
        for d in self.settings.departments:
            if given in (d.code, d.name, d.name.removeprefix(self.settings.hotline.county)):
                return d.code
        return None

    def _check(self, body: EntryIn) -> None:
        if body.department is not None and self.department_code(body.department) != body.department:
            raise ValidationFailed(f"部门代码 {body.department} 不在目录中", code="unknown_department")

    def _index_terms(self, e: KnowledgeEntry) -> None:
        seg = self.segmenter
        e.terms_question = joined(seg.terms(e.question))
        e.terms_body = joined(seg.terms(" ".join([e.answer, e.policy_source, *(e.tags or [])])))

    def _brief(self, e: KnowledgeEntry) -> dict[str, Any]:
        return {"id": e.id, "key": e.key, "question": e.question, "answer": e.answer,
                "policy_source": e.policy_source, "department": e.department,
                "department_name": self.department_name(e.department), "tags": list(e.tags or []),
                "version": e.version}

    def out(self, e: KnowledgeEntry) -> EntryOut:
        return EntryOut(**self._brief(e), valid_from=e.valid_from, valid_to=e.valid_to, public=e.public,
                        status=e.status, approved_by=e.approved_by, approved_at=e.approved_at,
                        updated_at=e.updated_at, cited=e.cited)

    def hit(self, e: KnowledgeEntry, score: float) -> Hit:
        return Hit(**self._brief(e), score=round(score, 6))

    @staticmethod
    def snapshot(e: KnowledgeEntry) -> dict[str, Any]:
        return {"key": e.key, "question": e.question, "answer": e.answer, "policy_source": e.policy_source,
                "department": e.department, "valid_from": e.valid_from.isoformat() if e.valid_from else None,
                "valid_to": e.valid_to.isoformat() if e.valid_to else None, "tags": list(e.tags or []),
                "public": e.public, "status": e.status, "approved_by": e.approved_by}

    @staticmethod
    def _same(e: KnowledgeEntry, body: EntryIn) -> bool:
        return (e.question, e.answer, e.policy_source, e.department, e.valid_from, e.valid_to, list(e.tags or []),
                e.public, e.status) == (body.question, body.answer, body.policy_source, body.department,
                                        body.valid_from, body.valid_to, body.tags, body.public, "active")

    async def _version(self, session: AsyncSession, e: KnowledgeEntry, change: str, by: str,
                       now: datetime, reason: str = "") -> None:
        await session.flush()  # the entry's id
        data = self.snapshot(e) | ({"reason": reason} if reason else {})
        queries.add_version(session, KnowledgeEntryVersion(entry_id=e.id, version=e.version, data=data,
                                                           change=change, changed_by=by, changed_at=now))
        await queries.index_entry(session, e)

    async def _next_key(self, session: AsyncSession, taken: int | None = None) -> tuple[str, int]:
        n = (taken if taken is not None else await queries.max_key_number(session, KEY_PREFIX)) + 1
        return f"{KEY_PREFIX}{n:05d}", n

    def _apply(self, e: KnowledgeEntry, body: EntryIn, by: str, now: datetime) -> None:
        e.question, e.answer, e.policy_source = body.question, body.answer, body.policy_source
        e.department, e.valid_from, e.valid_to = body.department, body.valid_from, body.valid_to
        e.tags, e.public, e.status = list(body.tags), body.public, "active"
        # A supervisor's save is the approval (审核): the entry answers citizens from now on.
        e.approved_by, e.approved_at, e.updated_at = by, now, now
        self._index_terms(e)

    # ------------------------------------------------------------ writes
    async def _create(self, session: AsyncSession, body: EntryIn, by: str, now: datetime, change: str,
                      key: str) -> KnowledgeEntry:
        e = KnowledgeEntry(key=key, version=1, created_at=now, cited=0)
        self._apply(e, body, by, now)
        session.add(e)
        await self._version(session, e, change, by, now)
        return e

    async def create(self, body: EntryIn, by: str) -> EntryOut:
        self._check(body)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if body.key and await queries.entries_by_key(session, [body.key]):
                raise Conflict(f"编号 {body.key} 已存在", code="duplicate_key")
            key = body.key or (await self._next_key(session))[0]
            e = await self._create(session, body, by, now, "created", key)
        return self.out(e)

    async def _locked(self, session: AsyncSession, entry_id: int, expected: int | None) -> KnowledgeEntry:
        e = await queries.entry_by_id(session, entry_id, lock=True)
        if e is None:
            raise NotFound(f"知识条目 {entry_id} 不存在", code="entry_not_found")
        if expected is not None and expected != e.version:
            raise Conflict(f"条目已被修改（当前第 {e.version} 版），请刷新后再改", code="version_conflict")
        return e

    async def update(self, entry_id: int, body: EntryIn, by: str, expected_version: int | None) -> EntryOut:
        self._check(body)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            e = await self._locked(session, entry_id, expected_version)
            if body.key and body.key != e.key:
                raise ValidationFailed("编号不可修改", code="key_immutable")
            if not self._same(e, body):
                e.version += 1
                self._apply(e, body, by, now)
                await self._version(session, e, "updated", by, now)
        return self.out(e)

    async def retire(self, entry_id: int, by: str, expected_version: int | None, reason: str = "") -> EntryOut:
        """下线: the entry leaves search and the FAQ; its versions and citations stay, the
        reason in the retiring version's record."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            e = await self._locked(session, entry_id, expected_version)
            if e.status != "retired":
                e.status, e.version, e.updated_at = "retired", e.version + 1, now
                await self._version(session, e, "retired", by, now, reason.strip())
        return self.out(e)

    async def import_entries(self, entries: list[EntryIn], by: str, progress: Progress | None = None) -> ImportOut:
        """Upsert by 编号 in one transaction: all rows or none. A row equal to the entry
        saves no new version. Rows are segmented one by one, written in one flush."""
        for body in entries:
            self._check(body)
        now = self.clock()
        created = updated = unchanged = 0
        touched: list[tuple[KnowledgeEntry, str]] = []
        async with self.sessions() as session, session.begin():
            existing = await queries.entries_by_key(session, [b.key for b in entries if b.key])
            last = await queries.max_key_number(session, KEY_PREFIX)
            for i, body in enumerate(entries, start=1):
                e = existing.get(body.key) if body.key else None
                if e is None:
                    if body.key:
                        key = body.key
                    else:
                        key, last = await self._next_key(session, last)
                    e = KnowledgeEntry(key=key, version=1, created_at=now, cited=0)
                    self._apply(e, body, by, now)
                    session.add(e)
                    existing[key] = e
                    touched.append((e, "imported"))
                    created += 1
                elif self._same(e, body):
                    unchanged += 1
                else:
                    e.version += 1
                    self._apply(e, body, by, now)
                    touched.append((e, "imported"))
                    updated += 1
                if progress is not None and (i % 100 == 0 or i == len(entries)):
                    progress(i, len(entries))
            await session.flush()  # every new entry's id, at once
            for e, change in touched:
                queries.add_version(session, KnowledgeEntryVersion(entry_id=e.id, version=e.version,
                                                                   data=self.snapshot(e), change=change,
                                                                   changed_by=by, changed_at=now))
            await queries.index_entries(session, [e for e, _ in touched])
        return ImportOut(created=created, updated=updated, unchanged=unchanged)

    # ------------------------------------------------------------ reads
    async def get(self, entry_id: int) -> EntryOut:
        async with self.sessions() as session:
            e = await queries.entry_by_id(session, entry_id)
        if e is None:
            raise NotFound(f"知识条目 {entry_id} 不存在", code="entry_not_found")
        return self.out(e)

    async def versions(self, entry_id: int) -> list[VersionOut]:
        async with self.sessions() as session:
            if await queries.entry_by_id(session, entry_id) is None:
                raise NotFound(f"知识条目 {entry_id} 不存在", code="entry_not_found")
            rows = await queries.versions_of(session, entry_id)
        return [VersionOut(version=v.version, change=v.change, changed_by=v.changed_by, changed_at=v.changed_at,
                           data=v.data) for v in rows]

    async def entries(self, *, status: str | None = "active") -> list[KnowledgeEntry]:
        async with self.sessions() as session:
            return await queries.all_entries(session, status=status)

    def _limit(self, limit: int | None) -> int:
        return min(limit or self.cfg.search.limit, self.cfg.search.max_limit)

    async def search(self, q: str, *, limit: int | None = None, public_only: bool = False,
                     department: str | None = None) -> list[Hit]:
        terms = self.segmenter.query_terms(q)
        async with self.sessions() as session:
            rows = await queries.search(session, terms, self.today(), limit=self._limit(limit),
                                        public_only=public_only, department=department)
        return [self.hit(e, s) for e, s in rows]

    async def suggest(self, text: str, *, limit: int | None = None) -> list[Hit]:
        """Entries for a draft as the agent types it: nothing for a few characters."""
        if len(text.strip()) < self.cfg.search.suggest_min_chars:
            return []
        return await self.search(text, limit=limit)


KNOWLEDGE: web.AppKey[KnowledgeBase] = web.AppKey("knowledge")
