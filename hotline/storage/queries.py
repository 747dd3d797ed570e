"""Small shared queries: dialect-aware upserts, number allocation, citizen linking."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hotline.contact import Identity
from hotline.domain.numbering import format_number
from hotline.storage.models import Citizen, CitizenIdentity, DailySequence


def insert_for(bind: AsyncSession | AsyncConnection | AsyncEngine, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT on the engine at hand (PostgreSQL or SQLite)."""
    name = (bind.get_bind() if isinstance(bind, AsyncSession) else bind).dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


_AUTOCOMMIT: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def autocommit(engine: AsyncEngine) -> AsyncEngine:
    """The engine's autocommit view (same pool), made once: single statements, no BEGIN."""
    view = _AUTOCOMMIT.get(engine)
    if view is None:
        view = _AUTOCOMMIT[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return view


def _sequence_upsert(bind: Any, day: str) -> Any:
    ins = insert_for(bind, DailySequence).values(day=day, last=1)
    return ins.on_conflict_do_update(index_elements=["day"],
                                     set_={"last": DailySequence.last + 1}).returning(DailySequence.last)


async def allocate_number(engine: AsyncEngine, local_day: date, session: AsyncSession | None = None) -> str:
    """The next work-order number of the day, unique under any concurrency.

    Without a session (PostgreSQL), the counter is bumped in its own single-statement
    (autocommit) transaction, so its row lock lasts only while the server runs that
    statement and concurrent intakes never queue behind each other's whole transaction.
    A failed intake may therefore leave a gap: numbers are unique and increasing, not
    gapless. With a session the counter goes with that transaction (SQLite has a single
    writer anyway; on PostgreSQL it is the rare path, e.g. a follow-up with no open order).
    """
    day = f"{local_day:%Y%m%d}"
    if session is not None:
        seq = (await session.execute(_sequence_upsert(session, day))).scalar_one()
    else:
        async with autocommit(engine).connect() as conn:
            seq = (await conn.execute(_sequence_upsert(conn, day))).scalar_one()
    return format_number(local_day, seq)


_SEEN_OR_BUMP = text("""
    WITH seen AS (
        SELECT c.id AS contact_id, c.citizen_id, w.id AS order_id, w.number, w.status
        FROM contacts c JOIN work_orders w ON w.id = c.work_order_id
        WHERE c.channel = :channel AND c.external_id = :external_id
    ), bump AS (
        INSERT INTO daily_sequences (day, last) SELECT :day, 1 WHERE NOT EXISTS (SELECT 1 FROM seen)
        ON CONFLICT (day) DO UPDATE SET last = daily_sequences.last + 1
        RETURNING last
    )
    SELECT seen.contact_id, seen.citizen_id, seen.order_id, seen.number, seen.status, bump.last
    FROM (SELECT 1) AS one LEFT JOIN seen ON true LEFT JOIN bump ON true
""")


async def seen_or_number(engine: AsyncEngine, channel: str, external_id: str,
                         local_day: date) -> tuple[Any | None, str | None]:
    """PostgreSQL, one round trip: the order an earlier identical contact made, or else
    the next number of the day (bumped in autocommit, see `allocate_number`)."""
    day = f"{local_day:%Y%m%d}"
    async with autocommit(engine).connect() as conn:
        row = (await conn.execute(_SEEN_OR_BUMP, {"channel": channel, "external_id": external_id,
                                                   "day": day})).one()
    if row.number is not None:
        return row, None
    return None, format_number(local_day, row.last)


async def _known(session: AsyncSession, identities: Sequence[Identity]) -> dict[tuple[str, str], int]:
    rows = (await session.execute(
        select(CitizenIdentity.kind, CitizenIdentity.value, CitizenIdentity.citizen_id)
        .where(tuple_(CitizenIdentity.kind, CitizenIdentity.value)
               .in_([(i.kind, i.value) for i in identities])))).all()
    return {(k, v): cid for k, v, cid in rows}


async def find_citizen(session: AsyncSession, identities: Sequence[Identity]) -> int | None:
    """The citizen behind the first identity that is known, in the order given."""
    if not identities:
        return None
    found = await _known(session, identities)
    return next((found[(i.kind, i.value)] for i in identities if (i.kind, i.value) in found), None)


async def resolve_citizen(session: AsyncSession, identities: Sequence[Identity], name: str | None,
                          now: datetime) -> int | None:
    """Find or create the citizen, and link every identity given to them.

    An identity already linked to another citizen stays where it is (merging people is
    a supervisor's decision, not intake's).
    """
    identities = [i for i in identities if i.value]
    if not identities:
        return None
    found = await _known(session, identities)
    citizen_id = next((found[(i.kind, i.value)] for i in identities if (i.kind, i.value) in found), None)
    missing = [i for i in identities if (i.kind, i.value) not in found]
    if not missing:
        return citizen_id
    if citizen_id is None:
        citizen_id = (await session.execute(
            insert_for(session, Citizen).values(name=name, created_at=now).returning(Citizen.id))).scalar_one()
    ins = insert_for(session, CitizenIdentity).values(
        [{"citizen_id": citizen_id, "kind": i.kind, "value": i.value, "created_at": now} for i in missing])
    await session.execute(ins.on_conflict_do_nothing(index_elements=["kind", "value"]))
    if identities[0] in missing:
        # Under a race a concurrent intake may have linked the sender first: follow it.
        winner = await find_citizen(session, identities[:1])
        if winner is not None:
            return winner
    return citizen_id
