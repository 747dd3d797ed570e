"""Small shared queries: dialect-aware upserts, number allocation, citizen linking."""

from __future__ import annotations

import weakref
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import UniqueConstraint, select, text, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hotline.domain.numbering import SEQUENCE_DIGITS, format_number
from hotline.storage.models import Citizen, CitizenIdentity, DailySequence

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hotline.contact import Identity


def insert_for(bind: AsyncSession | AsyncConnection | AsyncEngine, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT on the engine at hand (PostgreSQL or SQLite)."""
    name = (bind.get_bind() if isinstance(bind, AsyncSession) else bind).dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def violates(exc: IntegrityError, constraint: UniqueConstraint) -> bool:
    """Whether the database refused a row for breaking `constraint`, as the error itself says.

    PostgreSQL names the constraint (asyncpg's `constraint_name`); SQLite names the
    table's columns instead ("UNIQUE constraint failed: contacts.channel, contacts.external_id").
    """
    driver = getattr(exc.orig, "driver_exception", None)
    name = getattr(driver, "constraint_name", None)
    if name is not None:
        return bool(name == constraint.name)
    message = str(exc.orig)
    if getattr(exc.orig, "sqlite_errorname", None) in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
        table = constraint.table.name
        failed = message.partition(":")[2]
        return [c.strip() for c in failed.split(",")] == [f"{table}.{c.name}" for c in constraint.columns]
    return False


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


async def allocate_number(engine: AsyncEngine, local_day: date, session: AsyncSession) -> str:
    """The next work-order number of the day, unique under any concurrency.

    PostgreSQL: a sequence per day (`nextval` takes no lock and is never rolled back), so
    concurrent intakes never wait for each other; a failed intake leaves a gap — numbers
    are unique and increasing, not gapless. SQLite: a row per day in `daily_sequences`,
    bumped in the intake transaction (SQLite has one writer anyway).
    """
    if engine.dialect.name == "postgresql":
        seq = await ensure_day_sequence(engine, local_day)
        value = (await session.execute(text("SELECT nextval(CAST(:seq AS regclass))"), {"seq": seq})).scalar_one()
        return format_number(local_day, int(value))
    day = f"{local_day:%Y%m%d}"
    value = (await session.execute(_sequence_upsert(session, day))).scalar_one()
    return format_number(local_day, value)


_DAY_SEQUENCES: weakref.WeakKeyDictionary[AsyncEngine, set[str]] = weakref.WeakKeyDictionary()
DAY_SEQUENCE_PREFIX = "wo_number_"
_KEEP_DAYS = 7


def day_sequence(local_day: date) -> str:
    return f"{DAY_SEQUENCE_PREFIX}{local_day:%Y%m%d}"


async def ensure_day_sequence(engine: AsyncEngine, local_day: date) -> str:
    """PostgreSQL: the day's number sequence exists (created once per day and process).

    Sequences of days older than a week are dropped on the way: numbers carry their
    date, so an old day's counter is never needed again.
    """
    name = day_sequence(local_day)
    known = _DAY_SEQUENCES.setdefault(engine, set())
    if name in known:
        return name
    async with autocommit(engine).connect() as conn:
        try:
            await conn.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} AS integer MINVALUE 1 "
                                    f"MAXVALUE {10**SEQUENCE_DIGITS - 1} NO CYCLE"))
        except DBAPIError as exc:  # created by another process at the same instant: fine
            if "already exists" not in str(exc.orig) and "duplicate key" not in str(exc.orig):
                raise
        old = (await conn.execute(text(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND c.relname LIKE :pattern "
            "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()) "
            "AND c.relname < :oldest"),
            {"pattern": f"{DAY_SEQUENCE_PREFIX}%", "oldest": day_sequence(local_day - timedelta(days=_KEEP_DAYS))}
        )).scalars().all()
        for stale in old:
            await conn.execute(text(f'DROP SEQUENCE IF EXISTS "{stale}"'))
    known.add(name)
    return name


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


async def link_identity(session: AsyncSession, citizen_id: int, identity: Identity, now: datetime) -> None:
    """One more way to reach a citizen, confirmed by an agent (e.g. on the phone)."""
    session.add(CitizenIdentity(citizen_id=citizen_id, kind=identity.kind, value=identity.value, created_at=now))
