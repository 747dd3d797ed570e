"""Migrations on a database that holds data: dispatch's 0005 moves the SLA timers out of
the core (`timers` -> `dispatch_timers`) and keeps every row, on SQLite and PostgreSQL;
the migrated schema is the models' own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text

from dispatch.models import Timer
from hotline import root
from hotline.storage.engine import create_engine, session_factory
from hotline.storage.models import Base, UTCDateTime

if TYPE_CHECKING:
    from hotline.settings import Settings

# The heads before the move; branches that came later (desk) are simply at their head.
BEFORE = ("0002_telephony", "0003_channels", "0004_dispatch", "desk_0001_claims")
T = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def _seed(conn) -> list[tuple]:  # type: ignore[no-untyped-def]
    """One dispatched order with three timers as the old table held them: pending, fired, cancelled."""
    await conn.execute(text(
        "INSERT INTO work_orders (id, number, status, version, channel, title, description, urgency, confidential, "
        "reopen_count, created_at, updated_at) VALUES (7, '20261126000001', 'dispatched', 2, 'phone', 't', 'd', "
        "'normal', false, 0, :t, :t)").bindparams(bindparam("t", type_=UTCDateTime())), {"t": T})
    await conn.execute(text(
        "INSERT INTO assignments (id, work_order_id, department_code, role, status, extended_days, dispatched_at) "
        "VALUES (3, 7, 'scjgj', 'lead', 'dispatched', 0, :t)").bindparams(bindparam("t", type_=UTCDateTime())),
        {"t": T})
    h = timedelta(hours=1)
    rows = [(7, 3, "sign_reminder", 0, T + 2 * h, None, None, {"deadline": "x", "department": "scjgj"}),
            (7, 3, "sign_overdue", 1, T + 4 * h, T + 4 * h, None, {"notified": ["scjgj"]}),
            (7, None, "follow_up_due", 0, T + 22 * h, None, T + 3 * h, {})]
    insert = text(
        "INSERT INTO timers (work_order_id, assignment_id, kind, level, due_at, fired_at, cancelled_at, data) "
        "VALUES (:wo, :a, :kind, :level, :due, :fired, :cancelled, :data) RETURNING id").bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in ("due", "fired", "cancelled")))
    seeded = []
    for r in rows:  # ids from the table's own sequence, as the application gets them
        params = dict(zip(("wo", "a", "kind", "level", "due", "fired", "cancelled"), r[:7], strict=True))
        seeded.append(((await conn.execute(insert, {**params, "data": json.dumps(r[7])})).scalar_one(), *r))
    return seeded


def _tables(sync_conn) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(sync_conn).get_table_names())


async def test_the_timers_move_to_dispatch_with_every_row(settings: Settings) -> None:
    engine = create_engine(settings.database_url, schema=settings.database.schema_)
    schema = root.schema()
    try:
        for head in BEFORE:
            await schema.upgrade(engine, head)
        async with engine.begin() as conn:
            seeded = await _seed(conn)
        # The dispatch head, the core's own later revision, and the heads of the branches
        # BEFORE does not name (newer modules').
        assert await schema.pending(engine) == {"0006_dispatch_holds", "0007_core_dissatisfied",
                                                 "0008_reports_notes", "p003_directory", "k002_duplicate_checks"}

        await schema.upgrade(engine)
        assert await schema.pending(engine) == set()
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            assert "dispatch_timers" in tables and "timers" not in tables
            # The migrated schema is exactly what the models declare (names of indexes included).
            schema.config()  # every module's models imported
            # Tables a module makes with SQL of its own (SQLite's FTS5 index) are not models.
            unmanaged = Base.metadata.info.get("unmanaged_tables", set())
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c, opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: not (kind == "table" and name in unmanaged)}), Base.metadata))
            assert diff == []
        async with session_factory(engine)() as session, session.begin():
            moved = {t.id: t for t in (await session.execute(Timer.__table__.select())).all()}
            assert sorted(moved) == sorted(r[0] for r in seeded)
            for r in seeded:
                t = moved[r[0]]
                assert (t.work_order_id, t.assignment_id, t.kind, t.level, t.due_at, t.fired_at, t.cancelled_at,
                        t.data) == r[1:]
            session.add(Timer(work_order_id=7, assignment_id=3, kind="reply_reminder", level=0, due_at=T, data={}))
            await session.flush()
            ids = [t.id for t in (await session.execute(Timer.__table__.select())).all()]
            assert len(set(ids)) == 4 and max(ids) > max(moved)  # the id sequence went on with the table

        await schema.downgrade(engine, "0004_dispatch")
        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            assert "timers" in tables and "dispatch_timers" not in tables
            assert (await conn.execute(text("SELECT count(*) FROM timers"))).scalar_one() == 4
    finally:
        await engine.dispose()
