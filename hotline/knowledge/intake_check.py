"""受理时查重: each new order's duplicate candidates, found and recorded when it comes in.

Off intake's path: intake commits and acknowledges as before (no creation effect, so the
PostgreSQL fast way stays one statement); its after-commit announcement only wakes this
check, which reads the new orders not checked yet, finds their candidates among the
orders already there (`Merging.candidates_of`: place, matter, time window) and records
one `knowledge_duplicate_checks` row per order, empty or not. Nothing is lost when a
process stops between the two: the check also looks back over `check_lookback_hours`
for new orders without a row, every `check_seconds`, so another process's orders and a
restart's backlog are checked too. Two processes checking the same order write one row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hotline.errors import NotFound
from hotline.knowledge import queries
from hotline.tasks import RoundLog

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.domain import workorder as wo
    from hotline.knowledge.config import DuplicatesConfig
    from hotline.knowledge.duplicates import Candidate
    from hotline.knowledge.merging import Merging
    from hotline.live import LiveBus
    from hotline.storage.engine import SessionFactory
    from hotline.workorders import OrderFacts

log = logging.getLogger(__name__)
TOPIC = "duplicate_candidates"  # on the live bus: an order that came in with candidates
WOKEN_LOOKBACK = timedelta(minutes=10)


def candidate_json(c: Candidate) -> dict[str, Any]:
    return {"number": c.number, "score": c.score, "similarity": c.similarity, "place": c.place,
            "reasons": list(c.reasons), "title": c.title, "hours_apart": c.hours_apart}


@dataclass
class DuplicateCheck:
    cfg: DuplicatesConfig
    sessions: SessionFactory
    clock: Clock
    merging: Merging
    live: LiveBus
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _rounds: RoundLog = field(default_factory=lambda: RoundLog("duplicate check", log))

    async def on_committed(self, order: OrderFacts, event: wo.Event) -> None:
        """After a commit (intake's included): a new order wakes the check; nothing is awaited."""
        if event.kind == "created":
            self._wake.set()

    async def check_new(self, lookback: timedelta | None = None) -> int:
        """One batch of unchecked new orders created within `lookback` (default
        `check_lookback_hours`), oldest first; how many were checked."""
        now = self.clock()
        since = now - (lookback or timedelta(hours=self.cfg.check_lookback_hours))
        rows: list[dict[str, Any]] = []
        async with self.sessions() as session:
            for o in await queries.unchecked_orders(session, since, limit=self.cfg.check_batch):
                found = await self.merging.candidates_of(session, o, created_before=True)
                rows.append({"work_order_id": o.id, "number": o.number, "checked_at": now,
                             "candidates": [candidate_json(c) for c in found]})
        if not rows:
            return 0
        async with self.sessions() as session, session.begin():
            await queries.record_checks(session, rows)
        for r in rows:
            if r["candidates"]:
                await self.live.publish(TOPIC, {"number": r["number"], "candidates": r["candidates"]})
        return len(rows)

    async def recorded(self, number: str) -> dict[str, Any]:
        """What the check recorded for an order: {checked, checked_at, candidates}."""
        async with self.sessions() as session:
            found = await queries.duplicate_check(session, number)
        if found is None:
            raise NotFound(f"工单 {number} 不存在", code="workorder_not_found")
        _, row = found
        if row is None:
            return {"number": number, "checked": False, "checked_at": None, "candidates": []}
        return {"number": number, "checked": True, "checked_at": row.checked_at, "candidates": list(row.candidates)}

    async def run(self) -> None:
        """The loop `serve` runs: a batch whenever intake commits a new order, and a look back
        every `check_seconds` (a supervised task)."""
        loop = asyncio.get_running_loop()
        last_full = -float("inf")
        while True:
            self._wake.clear()
            # Woken by intake: only the last minutes are looked at (a busy hotline wakes it all
            # the time); the whole look back every `check_seconds`, however often it is woken.
            full = loop.time() - last_full >= self.cfg.check_seconds
            try:
                while await self.check_new(None if full else WOKEN_LOOKBACK) >= self.cfg.check_batch:
                    pass  # a backlog: the next batch at once
                self._rounds.succeeded()
            except Exception as exc:  # a database hiccup: look again next round, the loop stays up
                self._rounds.failed(exc)
            if full:
                last_full = loop.time()
            with contextlib.suppress(TimeoutError):  # not woken: the whole look back is due
                async with asyncio.timeout(max(0.0, last_full + self.cfg.check_seconds - loop.time())):
                    await self._wake.wait()


DUPLICATE_CHECK: web.AppKey[DuplicateCheck] = web.AppKey("knowledge-duplicate-check")
